// The embedded job queue (the default, with node:sqlite): jobs are promises in this process, as the coordinator ran
// its rounds before it had a queue. A job runs once its caller's transaction is done (node:sqlite runs one
// transaction at a time, so the handler's reads wait for it), at most one per (name, round) at a time; a delayed job
// is a timer. Nothing survives the process: after a restart, or a handler that threw, the round runner's sweeper
// re-issues what is still due (ensure), every second, exactly as its deadline watcher did.
import type { RoundKey } from '../stores/types.ts';
import { type JobHandlers, type JobName, type JobQueue, roundKey, type SendOptions } from './types.ts';

/** setTimeout's longest delay; a later deadline fires early, finds the round not due, and the sweeper has it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class InProcessQueue implements JobQueue {
  readonly kind = 'in-process';
  private handlers: JobHandlers | undefined;
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  async work(handlers: JobHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async send(name: JobName, round: RoundKey, options: SendOptions = {}): Promise<void> {
    if (this.stopped) return;
    const delay = options.startAfter ? Date.parse(options.startAfter) - Date.now() : 0;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        void this.run(name, round);
      },
      Math.min(Math.max(0, delay), MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.add(timer);
  }

  async ensure(name: JobName, round: RoundKey): Promise<void> {
    await this.send(name, round);
  }

  wake(): void {}

  /** The handler logs its own failure; the sweeper's next ensure retries it. */
  private run(name: JobName, round: RoundKey): Promise<void> {
    const key = `${name}:${roundKey(round)}`;
    const running = this.running.get(key);
    if (running || this.stopped || !this.handlers) return running ?? Promise.resolve();
    const job = this.handlers[name](round)
      .catch(() => undefined)
      .finally(() => this.running.delete(key));
    this.running.set(key, job);
    return job;
  }

  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  async deadLetters(): Promise<null> {
    return null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.idle();
  }
}
