// Postgres (npm `pg`) behind the SqlDriver interface, for replicas that share one database (DATABASE_URL).
// Migrations run at start under an advisory lock, so replicas starting together apply each version once; the job
// queue's schema (pg-boss) is installed under the same lock. The audit chain's head is serialised with a
// transaction-scoped advisory lock. Disk full (SQLSTATE 53100) becomes StorageFull: the transaction is rolled back
// and nothing was stored.
import pg from 'pg';
import { StorageFull } from '../errors.ts';
import { PG_MIGRATIONS } from './postgres-migrations.ts';
import type { Row, SqlClock, SqlDriver, SqlQueries, SqlValue } from './sql-driver.ts';

const MIGRATION_LOCK = 0x6369_7068; // 'ciph'
const AUDIT_CHAIN_LOCK = 0x6175_6474; // 'audt'

/** `?` placeholders become `$1…$n`; byte arrays travel as Buffers (bytea). */
function translate(sql: string, args: readonly SqlValue[]): [string, unknown[]] {
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  return [text, args.map((a) => (a instanceof Uint8Array ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a))];
}

/** On the pool: each statement on any connection; on a transaction's client: that connection, also as `native`. */
function queries(client: pg.Pool | pg.PoolClient): SqlQueries {
  const query = async (sql: string, args: readonly SqlValue[]) => client.query(...translate(sql, args));
  return {
    get: async (sql, ...args) => ((await query(sql, args)).rows[0] as Row | undefined),
    all: async (sql, ...args) => (await query(sql, args)).rows as Row[],
    run: async (sql, ...args) => (await query(sql, args)).rowCount ?? 0,
    ...(client instanceof pg.Pool ? {} : { native: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } }),
  };
}

/** Instants as text in the store's format (toISOString's), from now() (the transaction's start). */
const PG_CLOCK: SqlClock = {
  inSeconds: `to_char((now() + make_interval(secs => CAST(? AS double precision))) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  reached: (column) => `CAST(${column} AS timestamptz) <= now()`,
};

function storageError(e: unknown): unknown {
  return (e as { code?: string }).code === '53100' ? new StorageFull(`the coordinator's database is out of disk space (${(e as Error).message}); nothing was stored`) : e;
}

export class PostgresDriver implements SqlDriver {
  readonly rowLocks = true;
  readonly clock = PG_CLOCK;
  readonly pool: pg.Pool;
  private readonly direct: SqlQueries;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
    this.direct = queries(pool);
  }

  static async open(connectionString: string, options: { max?: number } = {}): Promise<PostgresDriver> {
    const pool = new pg.Pool({ connectionString, max: options.max ?? 4 });
    // An idle client that loses its server (a restart, a failover) must not crash the process.
    pool.on('error', () => undefined);
    const driver = new PostgresDriver(pool);
    await driver.migrate();
    return driver;
  }

  /** Runs fn while holding the migration lock, so schema changes of replicas starting together never interleave. */
  async withMigrationLock<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  private async migrate(): Promise<void> {
    await this.withMigrationLock(async (client) => {
      await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const row = (await client.query('SELECT version FROM schema_version')).rows[0] as { version: number } | undefined;
      if (!row) await client.query('INSERT INTO schema_version (version) VALUES (0)');
      for (let version = row?.version ?? 0; version < PG_MIGRATIONS.length; version++) {
        await client.query('BEGIN');
        try {
          await client.query(PG_MIGRATIONS[version] as string);
          await client.query('UPDATE schema_version SET version = $1', [version + 1]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw e;
        }
      }
    });
  }

  get(sql: string, ...args: SqlValue[]): Promise<Row | undefined> {
    return this.direct.get(sql, ...args).catch((e: unknown) => Promise.reject(storageError(e)));
  }

  all(sql: string, ...args: SqlValue[]): Promise<Row[]> {
    return this.direct.all(sql, ...args).catch((e: unknown) => Promise.reject(storageError(e)));
  }

  run(sql: string, ...args: SqlValue[]): Promise<number> {
    return this.direct.run(sql, ...args).catch((e: unknown) => Promise.reject(storageError(e)));
  }

  async tx<T>(fn: (q: SqlQueries) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(queries(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw storageError(e);
    } finally {
      client.release();
    }
  }

  async lockAuditChain(q: SqlQueries): Promise<void> {
    await q.get('SELECT pg_advisory_xact_lock(?)', AUDIT_CHAIN_LOCK);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

