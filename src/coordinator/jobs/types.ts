// The coordinator's background work as jobs behind one interface, so the embedded process and a fleet of replicas
// run the same round logic: the in-process queue (in-process.ts, the default with node:sqlite) and pg-boss on the
// shared Postgres (pg-boss.ts, DATABASE_URL). A queue delivers a job at least once; exactly-once results come from
// the compare-and-sets on the round row (stores/types.ts), never from the queue.
import type { DeadLetterView } from '../../protocol/api.ts';
import type { NativeSql, RoundEvents, RoundKey } from '../stores/types.ts';

/**
 * aggregate: add a closing round's uploads (at most one queued or running per round); deadline: close a round at its
 * deadline if it is due; retention: delete the uploads of closed rounds.
 */
export const JOB_NAMES = ['aggregate', 'deadline', 'retention'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** What a job does, on this replica (its HE pool). A handler that throws has the job retried. */
export type JobHandlers = Record<JobName, (round: RoundKey) => Promise<void>>;

export interface JobLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SendOptions {
  /** Not before this ISO-8601 instant. */
  startAfter?: string;
  /** The open transaction of the round transition that calls for the job: the job exists iff it commits. */
  tx?: NativeSql | undefined;
}

export interface JobQueue {
  /** `pg-boss`: jobs live in Postgres and survive this process; `in-process`: they live and die with it. */
  readonly kind: 'pg-boss' | 'in-process';
  /** Starts running jobs here with these handlers. */
  work(handlers: JobHandlers): Promise<void>;
  send(name: JobName, round: RoundKey, options?: SendOptions): Promise<void>;
  /**
   * Sends the job unless the queue still holds one for this round that may yet run or has been dead-lettered: how a
   * sweeper re-issues work that was lost (a crash before the first send, an in-process job that failed) without
   * undoing the dead-letter queue.
   */
  ensure(name: JobName, round: RoundKey): Promise<void>;
  /** Asks this replica's workers of `name` to look for jobs now rather than at their next poll. */
  wake(name: JobName): void;
  /** Resolves once the jobs running in this process have settled. */
  idle(): Promise<void>;
  /** Jobs that failed every attempt, newest first; null for the in-process queue, which has no dead-letter queue. */
  deadLetters(): Promise<DeadLetterView[] | null>;
  /** Stops taking jobs and waits for the running ones (pg-boss: then closes its connections). */
  stop(): Promise<void>;
}

/** The jobs each round transition calls for, written in the transition's transaction. */
export function roundJobs(jobs: JobQueue): RoundEvents {
  return {
    opened: (round, tx) => jobs.send('deadline', { federationId: round.federationId, round: round.round }, { startAfter: round.deadlineAt, tx }),
    closing: (round, tx) => jobs.send('aggregate', round, { tx }),
    closed: (round, tx) => jobs.send('retention', round, { tx }),
  };
}

/** One job per (name, round) is identified by this key (pg-boss's singletonKey; the in-process queue's dedup key). */
export const roundKey = (round: RoundKey): string => `${round.federationId}#${round.round}`;
