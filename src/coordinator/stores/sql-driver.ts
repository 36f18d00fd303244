// What the Store needs of a SQL database, so the same statements run on node:sqlite (embedded default) and on
// Postgres (DATABASE_URL). Statements use `?` placeholders, CAST(COUNT(*) AS INTEGER) and ON CONFLICT upserts,
// which both engines read the same way; a driver only translates placeholders, opens transactions, serialises the
// audit chain and names its clock (deadlines are set and judged by the database's clock, never a replica's).
import type { SQLInputValue } from 'node:sqlite';
import type { NativeSql } from './types.ts';

export type Row = Record<string, unknown>;
export type SqlValue = SQLInputValue;

export interface SqlQueries {
  get(sql: string, ...args: SqlValue[]): Promise<Row | undefined>;
  all(sql: string, ...args: SqlValue[]): Promise<Row[]>;
  /** The number of rows changed. */
  run(sql: string, ...args: SqlValue[]): Promise<number>;
  /** Inside a Postgres transaction: its connection, for a job queue that enqueues in the same transaction. */
  readonly native?: NativeSql;
}

/** SQL fragments of the database's clock; instants are ISO-8601 UTC text with milliseconds, as toISOString writes. */
export interface SqlClock {
  /** The instant `?` seconds from the database's now (one placeholder). */
  readonly inSeconds: string;
  /** True when the instant in `column` is at or before the database's now. */
  reached(column: string): string;
}

export interface SqlDriver extends SqlQueries {
  /** Whether SELECT … FOR UPDATE locks rows (Postgres); SQLite's BEGIN IMMEDIATE already excludes other writers. */
  readonly rowLocks: boolean;
  readonly clock: SqlClock;
  /** Runs fn in one transaction; a disk-full failure becomes StorageFull, with nothing stored. */
  tx<T>(fn: (q: SqlQueries) => Promise<T>): Promise<T>;
  /** Inside a transaction: hold the audit chain's head so two writers (two replicas) never fork it. */
  lockAuditChain(q: SqlQueries): Promise<void>;
  close(): Promise<void>;
}
