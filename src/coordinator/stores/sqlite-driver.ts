// node:sqlite behind the SqlDriver interface: WAL with synchronous=FULL (an acknowledged upload survives SIGKILL),
// numbered migrations, BEGIN IMMEDIATE transactions. The connection is synchronous, so transactions are queued one
// after another: a transaction body that awaits can never interleave with another one on the same connection.
// The database file is 0600 in a 0700 folder. A failing statement (disk full) rolls back only if SQLite has not
// already done so, so the client sees the real error, never "cannot rollback - no transaction is active".
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StorageFull } from '../errors.ts';
import type { Row, SqlClock, SqlDriver, SqlQueries, SqlValue } from './sql-driver.ts';
import { MIGRATIONS } from './sqlite-migrations.ts';

function isDiskFull(e: unknown): boolean {
  const err = e as { errcode?: number; code?: string; message?: string };
  return err.errcode === 13 || err.code === 'ENOSPC' || /SQLITE_FULL|database or disk is full/i.test(err.message ?? '');
}

/** SQLite's 'now' is the operating system's clock, read by the library (not the process's Date). */
const SQLITE_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
const SQLITE_CLOCK: SqlClock = {
  inSeconds: "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', CAST(? AS TEXT) || ' seconds')",
  reached: (column) => `${column} <= ${SQLITE_NOW}`,
};

export class SqliteDriver implements SqlDriver {
  readonly db: DatabaseSync;
  readonly rowLocks = false;
  readonly clock = SQLITE_CLOCK;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const file = join(dataDir, 'cipherpath.sqlite');
    this.db = new DatabaseSync(file);
    chmodSync(file, 0o600);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (!row) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    for (; version < MIGRATIONS.length; version++) {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        this.db.exec(MIGRATIONS[version] as string);
        this.db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
        this.db.exec('COMMIT');
      } catch (e) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    }
  }

  /** The statements of the open transaction; used only inside tx(). */
  private readonly direct: SqlQueries = {
    get: async (sql, ...args) => this.db.prepare(sql).get(...args) as Row | undefined,
    all: async (sql, ...args) => this.db.prepare(sql).all(...args) as Row[],
    run: async (sql, ...args) => Number(this.db.prepare(sql).run(...args).changes),
  };

  // Reads outside a transaction wait their turn too, so they never see a transaction's uncommitted rows.
  get(sql: string, ...args: SqlValue[]): Promise<Row | undefined> {
    return this.serial(() => this.direct.get(sql, ...args));
  }

  all(sql: string, ...args: SqlValue[]): Promise<Row[]> {
    return this.serial(() => this.direct.all(sql, ...args));
  }

  run(sql: string, ...args: SqlValue[]): Promise<number> {
    return this.tx((q) => q.run(sql, ...args));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  tx<T>(fn: (q: SqlQueries) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      try {
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(this.direct);
          this.db.exec('COMMIT');
          return result;
        } catch (e) {
          if (this.db.isTransaction) this.db.exec('ROLLBACK');
          throw e;
        }
      } catch (e) {
        if (isDiskFull(e)) throw new StorageFull(`the coordinator's database is out of disk space (${(e as Error).message}); nothing was stored`);
        throw e;
      }
    });
  }

  /** BEGIN IMMEDIATE already holds the only write lock of the file. */
  async lockAuditChain(): Promise<void> {}

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}
