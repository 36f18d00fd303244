// The job queue of replicas sharing one Postgres (DATABASE_URL): pg-boss 12, imported only in that mode, so the
// embedded `npm start` never loads it. Its schema is installed at start under the store's migration lock. Every
// replica works every queue into its own HE pool; a job a replica held when it died comes back once its heartbeat
// lapses, and one that failed every attempt goes to the dead-letter queue, which the admin page lists. Jobs are
// written in the transaction of the round transition that calls for them (send's `db` option), so a rolled-back
// close leaves no aggregation job and a committed one always has one.
import { type Job, PgBoss, type Queue } from 'pg-boss';
import type { DeadLetterView } from '../../protocol/api.ts';
import type { RoundKey } from '../stores/types.ts';
import { JOB_NAMES, type JobHandlers, type JobLogger, type JobName, type JobQueue, roundKey, type SendOptions } from './types.ts';

/** pg-boss queue names (in its `pgboss` schema), one per job, and the dead-letter queue all three fail into. */
export const QUEUES: Readonly<Record<JobName, string>> = { aggregate: 'cipherpath-aggregate', deadline: 'cipherpath-deadline', retention: 'cipherpath-retention' };
export const DEAD_LETTER_QUEUE = 'cipherpath-dead-letter';
/** pg-boss's own connections per replica (its default is 10); docs/deployment.md counts them. */
export const PG_BOSS_POOL_SIZE = 3;
/** Dead letters stay this long for the admin to see (pg-boss deletes queued jobs after their retention). */
const DEAD_LETTER_RETENTION_SECONDS = 30 * 86_400;
/** An aggregation still active after this is failed and retried: far above the worst encrypted sum measured. */
const AGGREGATE_EXPIRE_SECONDS = 3600;
const SHORT_JOB_EXPIRE_SECONDS = 300;
/** Dead letters read for the admin view (oldest first, then shown newest first). */
const DEAD_LETTERS_READ = 1000;

export interface JobSettings {
  /** A running job's heartbeat interval (pg-boss: at least 10): a job whose replica died comes back after it. */
  heartbeatSeconds: number;
  /** Retries after the first attempt before a job is dead-lettered. */
  retryLimit: number;
  /** First retry delay; doubled (with jitter) for each further retry, at most a minute. */
  retryDelaySeconds: number;
  /** Aggregations this replica runs at once (its HE pool's threads). */
  aggregateWorkers: number;
}

/** The text of a failed job's output: a serialised Error, or pg-boss's own `{ value: { message } }`. */
function errorText(output: unknown): string {
  const o = output as { message?: unknown; value?: { message?: unknown } } | null;
  const message = o?.message ?? o?.value?.message;
  return typeof message === 'string' ? message : JSON.stringify(output);
}

const jobName = (queue: string | null): JobName | undefined => JOB_NAMES.find((name) => QUEUES[name] === queue);

export class PgBossQueue implements JobQueue {
  readonly kind = 'pg-boss';
  readonly boss: PgBoss;
  private readonly workers = new Map<JobName, string[]>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly settings: JobSettings;

  private constructor(boss: PgBoss, settings: JobSettings) {
    this.boss = boss;
    this.settings = settings;
  }

  /** Starts pg-boss (installing or migrating its schema inside `underMigrationLock`) and creates the queues. */
  static async open(connectionString: string, settings: JobSettings, log: JobLogger, underMigrationLock: <T>(fn: () => Promise<T>) => Promise<T>): Promise<PgBossQueue> {
    // The supervisor fails jobs whose heartbeat stopped; it runs at half the heartbeat, so a dead replica's job is
    // retried between 1 and 1.5 heartbeats after its last one. No cron schedules: the timekeeper stays off.
    const superviseSeconds = Math.max(1, Math.floor(settings.heartbeatSeconds / 2));
    const boss = new PgBoss({ connectionString, max: PG_BOSS_POOL_SIZE, schedule: false, superviseIntervalSeconds: superviseSeconds, monitorIntervalSeconds: superviseSeconds });
    boss.on('error', (err) => log.error({ err: String(err) }, 'job queue error'));
    boss.on('warning', (warning) => log.warn({ data: warning.data }, warning.message));
    const queue = new PgBossQueue(boss, settings);
    try {
      await underMigrationLock(() => queue.createQueues());
    } catch (e) {
      await boss.stop({ graceful: false }).catch(() => undefined);
      throw e;
    }
    return queue;
  }

  private async createQueues(): Promise<void> {
    await this.boss.start();
    await this.boss.createQueue(DEAD_LETTER_QUEUE, { retentionSeconds: DEAD_LETTER_RETENTION_SECONDS });
    const retries = { retryLimit: this.settings.retryLimit, retryDelay: this.settings.retryDelaySeconds, retryBackoff: true, retryDelayMax: 60, deadLetter: DEAD_LETTER_QUEUE };
    const options: Record<JobName, Omit<Queue, 'name'>> = {
      // exclusive: one job per round queued, retrying or active at a time (a unique index over those states).
      aggregate: { policy: 'exclusive', ...retries, expireInSeconds: AGGREGATE_EXPIRE_SECONDS, heartbeatSeconds: this.settings.heartbeatSeconds },
      deadline: { ...retries, expireInSeconds: SHORT_JOB_EXPIRE_SECONDS },
      retention: { ...retries, expireInSeconds: SHORT_JOB_EXPIRE_SECONDS },
    };
    for (const name of JOB_NAMES) {
      const { policy, ...settings } = options[name];
      // createQueue leaves an existing queue as it was; updateQueue applies this version's settings to it.
      await this.boss.createQueue(QUEUES[name], { ...(policy ? { policy } : {}), ...settings });
      await this.boss.updateQueue(QUEUES[name], settings);
    }
  }

  async work(handlers: JobHandlers): Promise<void> {
    for (const name of JOB_NAMES) {
      const handle = async ([job]: Job<RoundKey>[]) => {
        const running = handlers[name]((job as Job<RoundKey>).data);
        this.running.add(running);
        try {
          await running;
        } finally {
          this.running.delete(running);
        }
      };
      // One work() per worker rather than localConcurrency, because only the ids work() returns can be woken.
      const count = name === 'aggregate' ? this.settings.aggregateWorkers : 1;
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push(await this.boss.work<RoundKey>(QUEUES[name], { pollingIntervalSeconds: 2 }, handle));
      this.workers.set(name, ids);
    }
  }

  async send(name: JobName, round: RoundKey, options: SendOptions = {}): Promise<void> {
    await this.boss.send(QUEUES[name], { federationId: round.federationId, round: round.round }, {
      singletonKey: roundKey(round),
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.tx ? { db: options.tx } : {}),
    });
  }

  async ensure(name: JobName, round: RoundKey): Promise<void> {
    const held = await this.boss.findJobs(QUEUES[name], { key: roundKey(round) });
    if (held.some((j) => j.state !== 'completed' && j.state !== 'cancelled')) return;
    await this.send(name, round);
  }

  wake(name: JobName): void {
    for (const id of this.workers.get(name) ?? []) this.boss.notifyWorker(id);
  }

  async idle(): Promise<void> {
    await Promise.allSettled(this.running);
  }

  async deadLetters(): Promise<DeadLetterView[]> {
    const jobs = await this.boss.findJobs<Partial<RoundKey>>(DEAD_LETTER_QUEUE, { limit: DEAD_LETTERS_READ });
    return jobs.reverse().flatMap((j) => {
      const job = jobName(j.sourceName);
      if (!job || typeof j.data.federationId !== 'string' || typeof j.data.round !== 'number') return [];
      // retryCount counts the claims after the first, so the attempts are one more.
      return [{ id: j.id, job, federationId: j.data.federationId, round: j.data.round, attempts: (j.sourceRetryCount ?? 0) + 1, lastError: errorText(j.sourceOutput), deadLetteredAt: new Date(j.createdOn).toISOString() }];
    });
  }

  /** Waits for running handlers (up to pg-boss's 30 s; then their jobs are failed and retried elsewhere), closes its pool. */
  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, close: true });
  }
}
