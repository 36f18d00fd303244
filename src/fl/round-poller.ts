// The one status poller of each round, shared by everyone who follows it: a clinic's RoundClient waiting for the
// round to close, and a page that shows the round's status and timeline. A second follower of a round joins the
// poller that runs; the poller stops when the round closes or fails, or when its last follower has gone. It needs
// only the round route (no key), so a page can follow rounds before this browser holds the federation key.
import type { RoundView } from '../protocol/api.ts';

/** The round a clinic waits on failed (below the quorum after quarantine); the next round is open. */
export class RoundFailedError extends Error {
  readonly round: number;
  constructor(round: number, failure: string | null) {
    super(`round ${round} failed: ${failure ?? 'no reason given'}; round ${round + 1} is open for a new contribution`);
    this.name = 'RoundFailedError';
    this.round = round;
  }
}

export type RoundStatusReader = (round: number, signal: AbortSignal) => Promise<RoundView>;

export interface FollowOptions {
  signal?: AbortSignal | undefined;
  /** Each status read, or null when the coordinator was unreachable (the poller retries). */
  onView?: ((view: RoundView | null) => void) | undefined;
}

const abortable = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });

interface Poll {
  promise: Promise<RoundView>;
  listeners: Set<(view: RoundView | null) => void>;
  controller: AbortController;
}

export class RoundPoller {
  readonly #read: RoundStatusReader;
  readonly #pollMs: number;
  readonly #polls = new Map<number, Poll>();

  /** `read` is the round route; one read per `pollMs` (default 1 s) per followed round. */
  constructor(read: RoundStatusReader, pollMs = 1000) {
    this.#read = read;
    this.#pollMs = pollMs;
  }

  /** Rounds polled right now (tests and the page's own check that nothing polls twice). */
  get polling(): number[] {
    return [...this.#polls.keys()];
  }

  /**
   * Resolves with the closed round's status, or rejects with RoundFailedError when it failed, naming why and the
   * round that is open instead. Aborting `signal` ends only this follower's wait.
   */
  follow(round: number, opts: FollowOptions = {}): Promise<RoundView> {
    const poll = this.#polls.get(round) ?? this.#start(round);
    const { promise, listeners, controller } = poll;
    const listener = (view: RoundView | null) => opts.onView?.(view);
    listeners.add(listener);
    return new Promise<RoundView>((resolve, reject) => {
      const leave = () => {
        listeners.delete(listener);
        if (listeners.size > 0) return;
        // Forgotten at once, so that a follower arriving right after (a page re-rendering) starts a fresh poller
        // instead of joining this stopping one.
        if (this.#polls.get(round) === poll) this.#polls.delete(round);
        controller.abort(new DOMException('no one follows this round any more', 'AbortError'));
      };
      if (opts.signal?.aborted) return (leave(), reject(opts.signal.reason as Error));
      opts.signal?.addEventListener('abort', () => (leave(), reject(opts.signal?.reason as Error)), { once: true });
      promise.then(
        (view) => (listeners.delete(listener), resolve(view)),
        (e: unknown) => (listeners.delete(listener), reject(e as Error)),
      );
    });
  }

  #start(round: number): Poll {
    const listeners = new Set<(view: RoundView | null) => void>();
    const controller = new AbortController();
    const poll = async (): Promise<RoundView> => {
      for (;;) {
        const view = await this.#read(round, controller.signal).catch((e: unknown) => {
          if (controller.signal.aborted) throw e;
          return null;
        });
        for (const listener of listeners) listener(view);
        if (view?.status === 'closed') return view;
        if (view?.status === 'failed') throw new RoundFailedError(round, view.failure);
        await abortable(this.#pollMs, controller.signal);
      }
    };
    const created = { promise: poll(), listeners, controller };
    created.promise
      .finally(() => {
        if (this.#polls.get(round) === created) this.#polls.delete(round);
      })
      .catch(() => undefined);
    this.#polls.set(round, created);
    return created;
  }
}
