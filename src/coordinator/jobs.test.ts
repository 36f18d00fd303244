// The job queue on the store the suite runs on. Embedded (unit project): the in-process queue, and pg-boss never
// loaded. On Postgres (postgres project): pg-boss jobs written in the transitions' own transactions, an aggregation
// that fails every attempt dead-lettered and shown to the admin, deadlines judged by the database's clock, two
// coordinators on one database aggregating a round once, and no job left running, retrying or failed afterwards.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import type { HeNodePool } from '../he/node-pool.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey } from '../he/tokens.ts';
import type { AuditEntry, JobsView, RoundView } from '../protocol/api.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { DEAD_LETTER_QUEUE, PgBossQueue, QUEUES } from './jobs/pg-boss.ts';
import { roundJobs } from './jobs/types.ts';
import { createTestDatabase } from './stores/postgres-cluster.ts';
import { PostgresDriver } from './stores/postgres-driver.ts';
import { SqlStore } from './stores/sql-store.ts';
import { adminFederation, enrol, type HttpCall, httpClient, sharedHe, spawnCoordinator, startCoordinator, TEST_ADMIN_TOKEN } from './testing.ts';

// The postgres project gives each file a database (DATABASE_URL); the unit project may still see the cluster variable.
const cluster = process.env.DATABASE_URL ? process.env.CIPHERPATH_TEST_PG_CLUSTER : undefined;
const admin = { token: TEST_ADMIN_TOKEN };
const he = sharedHe();

const tokensFor = (clinic: number): Float32Array[] => [Float32Array.from({ length: 8 }, (_, d) => Math.sin(clinic * 5 + d) * 2)];

/** This HE pool, its sums counted or refused: the rest of it is the real pool. */
function poolWith(sum: (real: HeNodePool['sumCiphertexts']) => HeNodePool['sumCiphertexts']): HeNodePool {
  return new Proxy(he.pool, {
    get: (target, prop) => {
      if (prop === 'sumCiphertexts') return sum(target.sumCiphertexts.bind(target));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A federation of `clinics` enrolled clinics, each with its encrypted upload for round 1 ready. */
async function federationOf(call: HttpCall, clinics: number, opts: { minClinics: number; roundSeconds?: number }) {
  const { federationId, codes } = await adminFederation(call, { ...opts, invites: clinics });
  const enrolled = await Promise.all(codes.map((code, i) => enrol(call, code, `J${i}`)));
  const secretKey = await generateSecretKey(he.ctx, federationId);
  const bodies = await Promise.all(enrolled.map(async (_, i) => encodeBundle(await encryptTokenBatch(he.ctx, secretKey, federationId, tokensFor(i)))));
  const upload = (via: HttpCall, i: number) => via('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: enrolled[i]?.token, binary: bodies[i] });
  const round = (via: HttpCall, n = 1) => via<RoundView>('GET', `/api/federations/${federationId}/rounds/${n}`, { token: enrolled[0]?.token }).then((r) => r.body);
  return { federationId, enrolled, secretKey, upload, round };
}

/** One query on `url`'s database, on a connection of its own. */
async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** pg-boss's jobs of the cipherpath queues in `url`'s database, as (queue, state, key) rows. */
const jobRows = (url: string) => query<{ name: string; state: string; key: string | null }>(url, 'SELECT name, state::text AS state, singleton_key AS key FROM pgboss.job ORDER BY created_on');

describe('embedded: the in-process queue', () => {
  it('says so on the admin route: no job queue, no dead letters', async () => {
    const coordinator = await startCoordinator({ pool: he.pool, env: { DATABASE_URL: '' } });
    try {
      const jobs = await httpClient(coordinator.url)<JobsView>('GET', '/api/admin/jobs', admin);
      expect(jobs.status).toBe(200);
      expect(jobs.body).toEqual({ queue: 'in-process', deadLetters: [] });
      expect((await httpClient(coordinator.url)('GET', '/api/admin/jobs')).status).toBe(401);
    } finally {
      await coordinator.stop();
    }
  });

  // The embedded coordinator in a process of its own that records every module it resolves; with a Postgres the same
  // probe sees pg-boss, so the probe can tell.
  const probe = async (env: Record<string, string>): Promise<string[]> => {
    const script = `
      import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
      const { startEmbeddedCoordinator } = await import(${JSON.stringify(join(import.meta.dirname, 'embedded.ts'))});
      const coordinator = await startEmbeddedCoordinator();
      await coordinator.close();
      process.stdout.write(JSON.stringify(seen.filter((url) => url.includes('/node_modules/pg-boss/'))));`;
    const { DATABASE_URL: _d, CIPHERPATH_TEST_PG_CLUSTER: _c, ...clean } = process.env;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...clean, ...env } });
    return JSON.parse(stdout) as string[];
  };

  it('never loads pg-boss', async () => {
    expect(await probe({})).toEqual([]);
    if (cluster) expect((await probe({ CIPHERPATH_TEST_PG_CLUSTER: cluster })).length).toBeGreaterThan(0);
  });
});

describe.skipIf(!cluster)('pg-boss on Postgres', () => {
  const settings = { heartbeatSeconds: 10, retryLimit: 1, retryDelaySeconds: 1, aggregateWorkers: 1 };
  const quiet = { warn: () => undefined, error: () => undefined };

  it('writes the aggregation job in the close’s transaction (a rolled-back close leaves none) and the deadline job at the deadline', async () => {
    const url = await createTestDatabase(cluster as string);
    const driver = await PostgresDriver.open(url);
    const store = new SqlStore(driver);
    const jobs = await PgBossQueue.open(url, settings, quiet, (fn) => driver.withMigrationLock(fn));
    try {
      store.setRoundEvents(roundJobs(jobs));
      const federation = { id: 'fed-j', name: 'J', presetId: 'agg-v1', strategy: 'sum', minClinics: 1, roundSeconds: 600, ciphertextCount: null, scaleBits: null, markerSlots: 0, expiresAt: null } as const;
      await store.createFederation(federation, []);
      const deadlineAt = (await store.getRound('fed-j', 1))?.deadlineAt as string;
      const [deadline, ...more] = await jobs.boss.findJobs(QUEUES.deadline, { key: 'fed-j#1' });
      expect(more).toEqual([]);
      expect(new Date(deadline?.startAfter as Date).toISOString()).toBe(deadlineAt);

      // The close's commit fails after the job was written in it (a deferred constraint trigger): neither is kept.
      await driver.pool.query(`CREATE FUNCTION refuse_close() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'close refused at commit'; END $$;
        CREATE CONSTRAINT TRIGGER refuse_close AFTER UPDATE ON rounds DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.status = 'aggregating') EXECUTE FUNCTION refuse_close()`);
      await expect(store.tryClose('fed-j', 1)).rejects.toThrow('close refused at commit');
      expect((await store.getRound('fed-j', 1))?.status).toBe('collecting');
      expect(await jobs.boss.findJobs(QUEUES.aggregate, { key: 'fed-j#1' })).toEqual([]);

      await driver.pool.query('DROP TRIGGER refuse_close ON rounds');
      expect(await store.tryClose('fed-j', 1)).toBe(true);
      expect((await jobs.boss.findJobs(QUEUES.aggregate, { key: 'fed-j#1' })).map((j) => j.state)).toEqual(['created']);
      // exclusive: a second close of the same round (after an admin reset) adds no second live job.
      expect(await store.resetRound('fed-j', 1)).toBe(true);
      expect(await store.tryClose('fed-j', 1)).toBe(true);
      expect(await jobs.boss.findJobs(QUEUES.aggregate, { key: 'fed-j#1' })).toHaveLength(1);
    } finally {
      await jobs.stop();
      await store.close();
    }
  });

  it('retries an aggregation that throws, then dead-letters it; the admin route shows it and the sweeper leaves it there', async () => {
    const url = await createTestDatabase(cluster as string);
    const broken = poolWith(() => async () => {
      throw new Error('the HE pool lost its worker (injected by the test)');
    });
    const coordinator = await startCoordinator({ pool: broken, env: { DATABASE_URL: url, JOB_RETRY_LIMIT: '1', JOB_RETRY_DELAY_SECONDS: '1' } });
    try {
      const call = httpClient(coordinator.url);
      const f = await federationOf(call, 1, { minClinics: 1 });
      expect((await f.upload(call, 0)).status).toBe(201);
      const jobs = await until('dead letters', async () => (await call<JobsView>('GET', '/api/admin/jobs', admin)).body, (v) => v.deadLetters.length > 0);
      expect(jobs.queue).toBe('pg-boss');
      expect(jobs.deadLetters).toEqual([
        { id: expect.any(String), job: 'aggregate', federationId: f.federationId, round: 1, attempts: 2, lastError: 'the HE pool lost its worker (injected by the test)', deadLetteredAt: expect.any(String) },
      ]);
      // Two sweeps later the round still waits for the admin (reset), with no new aggregation job behind their back.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await f.round(call)).status).toBe('aggregating');
      expect((await jobRows(url)).filter((j) => j.name === QUEUES.aggregate)).toEqual([{ name: QUEUES.aggregate, state: 'failed', key: `${f.federationId}#1` }]);
    } finally {
      await coordinator.stop();
    }
  });

  it('closes a round whose deadline passed by the database clock, while this process’s clock says it is hours away', async () => {
    const url = await createTestDatabase(cluster as string);
    const coordinator = await startCoordinator({ pool: he.pool, env: { DATABASE_URL: url } });
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const call = httpClient(coordinator.url);
      const f = await federationOf(call, 2, { minClinics: 1, roundSeconds: 3600 });
      expect((await f.upload(call, 0)).status).toBe(201);
      expect((await f.round(call)).status).toBe('collecting');
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() - 2 * 3600_000);
      await db.query(`UPDATE rounds SET deadline_at = to_char((now() - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') WHERE federation_id = $1 AND round = 1`, [f.federationId]);
      const pending = await f.round(call);
      expect(Date.parse(pending.deadlineAt)).toBeGreaterThan(Date.now() + 3600_000);
      const closed = await until('round 1', () => f.round(call), (r) => r.status === 'closed', 15_000);
      expect(closed.submitted).toEqual(['J0']);
    } finally {
      vi.useRealTimers();
      await db.end();
      await coordinator.stop();
    }
  });

  it('aggregates a round once with two coordinators on one database, and leaves no job running, retrying or failed', async () => {
    const url = await createTestDatabase(cluster as string);
    // Each sum takes 1.5 s longer, so both replicas' sweepers run while the round aggregates.
    const sums = [0, 0];
    const counted = (i: number) =>
      poolWith((real) => async (...args) => {
        sums[i] = (sums[i] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 1500));
        return real(...args);
      });
    const env = { DATABASE_URL: url, BLOB_STORE: 'postgres' };
    const a = await startCoordinator({ pool: counted(0), env });
    const b = await startCoordinator({ pool: counted(1), env });
    try {
      const [callA, callB] = [httpClient(a.url), httpClient(b.url)];
      const f = await federationOf(callA, 3, { minClinics: 3 });
      expect((await f.upload(callA, 0)).status).toBe(201);
      expect((await f.upload(callB, 1)).status).toBe(201);
      // The last upload reaches both at once: both see the round due and race for the close.
      const last = await Promise.all([f.upload(callA, 2), f.upload(callB, 2)]);
      expect(last.map((r) => r.status).sort()).toEqual([200, 201]);
      const closed = await until('round 1', () => f.round(callB), (r) => r.status === 'closed');
      expect(closed.submitted.sort()).toEqual(['J0', 'J1', 'J2']);
      const [sum] = await decryptTokenBatch(he.ctx, f.secretKey, decodeBundle((await callA('GET', `/api/federations/${f.federationId}/rounds/1/aggregate`, { token: f.enrolled[0]?.token })).bytes), 1, 8);
      for (let d = 0; d < 8; d++) expect(Math.abs((sum?.[d] ?? NaN) - [0, 1, 2].reduce((s, c) => s + (tokensFor(c)[0]?.[d] ?? 0), 0))).toBeLessThan(1e-6);
      // One replica summed, once; one closed round in the audit; one aggregation job, completed.
      expect(sums.filter((n) => n > 0)).toHaveLength(1);
      const audit = (await callA<AuditEntry[]>('GET', '/api/admin/audit', admin)).body;
      expect(audit.filter((e) => e.action === 'round.closed')).toHaveLength(1);
      const rows = await until('retention', () => jobRows(url), (r) => r.some((j) => j.name === QUEUES.retention && j.state === 'completed'));
      expect(rows.filter((j) => j.name === QUEUES.aggregate)).toEqual([{ name: QUEUES.aggregate, state: 'completed', key: `${f.federationId}#1` }]);
      // Round 2's deadline job waits for its deadline; round 1's is still queued and will find nothing to do.
      expect(rows.filter((j) => ['active', 'retry', 'failed'].includes(j.state) || j.name === DEAD_LETTER_QUEUE)).toEqual([]);
      expect(rows.filter((j) => j.name === QUEUES.deadline).map((j) => [j.key, j.state])).toEqual([
        [`${f.federationId}#1`, 'created'],
        [`${f.federationId}#2`, 'created'],
      ]);
      for (const call of [callA, callB]) expect((await call<JobsView>('GET', '/api/admin/jobs', admin)).body).toEqual({ queue: 'pg-boss', deadLetters: [] });
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('stops pg-boss on SIGTERM: the process exits 0, its instance is marked stopped, no connection of it stays; it held at most 4 + 3', async () => {
    const url = await createTestDatabase(cluster as string);
    const database = new URL(url).pathname.slice(1);
    const dataDir = mkdtempSync(join(tmpdir(), 'cipherpath-jobs-'));
    try {
      const { child, url: replica } = await spawnCoordinator(dataDir, { env: { DATABASE_URL: url, BLOB_STORE: 'postgres' } });
      const call = httpClient(replica);
      const f = await federationOf(call, 1, { minClinics: 1 });
      expect((await f.upload(call, 0)).status).toBe(201);
      await until('round 1', () => f.round(call), (r) => r.status === 'closed');
      const connections = await query<{ pgboss: boolean }>(url, "SELECT application_name LIKE 'pgboss%' AS pgboss FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [database]);
      expect(connections.filter((c) => c.pgboss).length).toBeLessThanOrEqual(3);
      expect(connections.filter((c) => !c.pgboss).length).toBeLessThanOrEqual(4);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const instances = await query<{ pid: number; stopped: boolean }>(url, 'SELECT pid, stopped_on IS NOT NULL AS stopped FROM pgboss.instance');
      expect(instances).toEqual([{ pid: child.pid, stopped: true }]);
      expect(await query(url, 'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
