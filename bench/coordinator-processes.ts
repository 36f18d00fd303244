// The 1,000-clinic rows of the `coordinator` bench: coordinator processes (src/coordinator/main.ts) apart from the
// load generator, so RSS and threads are the coordinator's own. One process on the embedded defaults (node:sqlite,
// blob files), or two replicas on one throwaway Postgres cluster (BLOB_STORE=postgres) with the clinics split
// round-robin. Every clinic encrypts its own token (real CKKS, fresh randomness: distinct bytes, checked), enrols and
// uploads with `concurrency` requests in flight; the last upload goes alone and is timed to the aggregate served.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sha256Hex } from '../src/common/sha256.ts';
import { createTestDatabase, startPostgresCluster } from '../src/coordinator/stores/postgres-cluster.ts';
import { httpClient, killProcess, spawnCoordinator, TEST_ADMIN_TOKEN } from '../src/coordinator/testing.ts';
import { HeContext } from '../src/he/context.ts';
import type { PresetId } from '../src/he/params.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey } from '../src/he/tokens.ts';
import type { RoundView } from '../src/protocol/api.ts';
import { decodeBundle, encodeBundle } from '../src/protocol/bundle.ts';

const DIM = 768;
const token = (clinic: number) => [Float32Array.from({ length: DIM }, (_, d) => Math.sin(clinic + d))];

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** Runs fn over 0..n-1 with at most `limit` in flight; returns each call's milliseconds. */
async function timedPool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const ms = new Array<number>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now();
        await fn(i);
        ms[i] = performance.now() - t0;
      }
    }),
  );
  return ms;
}

/** VmRSS, VmHWM (peak) in MiB and the thread count of a process, from /proc. */
function processStatus(pid: number): { rssMiB: number; peakRssMiB: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(field('VmRSS') / 1024), peakRssMiB: Math.round(field('VmHWM') / 1024), threads: field('Threads') };
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  return total;
}

interface Deployment {
  setup: string;
  urls: string[];
  children: ChildProcess[];
  /** State size (node:sqlite file + WAL, or pg_database_size, which holds the bytea blobs too) and blob bytes. */
  sizes(): Promise<{ dbBytes: number; blobBytes: number }>;
  stop(): Promise<void>;
}

async function embeddedProcess(): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cipherpath-bench-'));
  const { child, url } = await spawnCoordinator(dataDir, { env: { DATABASE_URL: '', BLOB_STORE: '' } });
  const size = (file: string) => statSync(join(dataDir, file), { throwIfNoEntry: false })?.size ?? 0;
  return {
    setup: '1 process, node:sqlite + blob files',
    urls: [url],
    children: [child],
    sizes: async () => ({ dbBytes: size('cipherpath.sqlite') + size('cipherpath.sqlite-wal'), blobBytes: bytesUnder(join(dataDir, 'blobs')) }),
    async stop() {
      await killProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function postgresReplicas(count: number): Promise<Deployment> {
  const cluster = await startPostgresCluster();
  const databaseUrl = await createTestDatabase(cluster.url);
  const dataDirs = Array.from({ length: count }, () => mkdtempSync(join(tmpdir(), 'cipherpath-bench-')));
  const started = await Promise.all(dataDirs.map((dir) => spawnCoordinator(dir, { env: { DATABASE_URL: databaseUrl, BLOB_STORE: 'postgres' } })));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const one = async (sql: string) => Number(((await client.query(sql)).rows[0] as { n: string }).n);
  return {
    setup: `${count} replicas, one Postgres (bytea blobs)`,
    urls: started.map((s) => s.url),
    children: started.map((s) => s.child),
    sizes: async () => ({
      dbBytes: await one('SELECT pg_database_size(current_database()) AS n'),
      blobBytes: await one('SELECT COALESCE(SUM(octet_length(data)), 0) AS n FROM blobs'),
    }),
    async stop() {
      await client.end();
      await Promise.all(started.map((s) => killProcess(s.child)));
      cluster.stop();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One round of `clinics` clinics on a fresh deployment; the row of the bench table. */
async function oneRound(deployment: Deployment, clinics: number, presetId: PresetId, concurrency: number): Promise<{ row: object; encryptSeconds: number }> {
  const calls = deployment.urls.map((url) => httpClient(url));
  const on = (i: number) => calls[i % calls.length] as (typeof calls)[number];
  const admin = { token: TEST_ADMIN_TOKEN };
  const created = await on(0)<{ id: string }>('POST', '/api/admin/federations', { ...admin, json: { name: 'bench', presetId, minClinics: clinics } });
  if (created.status !== 201) throw new Error(`create federation: ${created.status} ${JSON.stringify(created.body)}`);
  const federationId = created.body.id;
  const codes: string[] = [];
  while (codes.length < clinics) {
    const invites = await on(0)<{ codes: string[] }>('POST', `/api/admin/federations/${federationId}/invites`, { ...admin, json: { count: Math.min(100, clinics - codes.length) } });
    codes.push(...invites.body.codes);
  }
  const tokens = new Array<string>(clinics);
  const enrolMs = await timedPool(clinics, concurrency, async (i) => {
    const r = await on(i)<{ token: string }>('POST', '/api/enrol', { json: { inviteCode: codes[i], clinicName: `C${i}` } });
    if (r.status !== 201) throw new Error(`enrol ${i}: ${r.status}`);
    tokens[i] = r.body.token;
  });

  const ctx = await HeContext.create(presetId);
  const secretKey = await generateSecretKey(ctx, federationId);
  const encryptStarted = performance.now();
  const bundles: Uint8Array[] = [];
  for (let i = 0; i < clinics; i++) bundles.push(encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, token(i))));
  const encryptSeconds = (performance.now() - encryptStarted) / 1000;
  if (new Set(bundles.map((b) => sha256Hex(b))).size !== clinics) throw new Error('two clinics encrypted to the same bytes: the coordinator would take them as one');

  const before = await deployment.sizes();
  const upload = async (i: number) => {
    const r = await on(i)('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: tokens[i] as string, binary: bundles[i] as Uint8Array });
    if (r.status !== 201) throw new Error(`upload ${i}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const uploadsStarted = performance.now();
  const uploadMs = await timedPool(clinics - 1, concurrency, upload);
  const uploadsPerSecond = (clinics - 1) / ((performance.now() - uploadsStarted) / 1000);
  const t0 = performance.now();
  await upload(clinics - 1);
  const lastUploadAt = performance.now();
  uploadMs.push(lastUploadAt - t0);
  const peak = deployment.sizes(); // every upload is stored until the round closes
  for (;;) {
    const r = await on(0)<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token: tokens[0] as string });
    if (r.body.status === 'closed') break;
    if (r.body.status !== 'collecting' && r.body.status !== 'aggregating') throw new Error(`round ${r.body.status}: ${r.body.failure}`);
    await sleep(25);
  }
  const aggregate = await on(0)('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token: tokens[0] as string });
  const lastUploadToAggregateMs = performance.now() - lastUploadAt;
  const status = deployment.children.map((c) => processStatus(c.pid as number));

  const [sum] = await decryptTokenBatch(ctx, secretKey, decodeBundle(aggregate.bytes), 1, DIM);
  let maxAbsError = 0;
  for (let d = 0; d < DIM; d++) {
    let expected = 0;
    for (let i = 0; i < clinics; i++) expected += Math.sin(i + d);
    maxAbsError = Math.max(maxAbsError, Math.abs((sum?.[d] ?? NaN) - expected));
  }
  ctx.dispose();
  const atPeak = await peak;
  // Retention deletes the round's uploads once the aggregate is stored, one blob at a time: wait until only the
  // aggregate is left, or nothing has changed for 2 s (an orphan would stay), at most 60 s.
  let after = await deployment.sizes();
  for (let unchanged = 0, i = 0; i < 240 && unchanged < 8 && after.blobBytes - before.blobBytes > aggregate.bytes.byteLength; i++) {
    await sleep(250);
    const now = await deployment.sizes();
    unchanged = now.blobBytes === after.blobBytes ? unchanged + 1 : 0;
    after = now;
  }
  const each = (f: (s: (typeof status)[number]) => number) => status.map(f).join(' / ');
  return {
    encryptSeconds,
    row: {
      setup: deployment.setup,
      clinics,
      preset: presetId,
      uploadBytes: bundles[0]?.byteLength,
      concurrency,
      enrolMsP50: percentile(enrolMs, 50),
      enrolMsP99: percentile(enrolMs, 99),
      uploadMsP50: percentile(uploadMs, 50),
      uploadMsP99: percentile(uploadMs, 99),
      uploadsPerSecond,
      lastUploadToAggregateMs,
      aggregateBytes: aggregate.bytes.byteLength,
      maxAbsError,
      rssMiB: each((s) => s.rssMiB),
      peakRssMiB: each((s) => s.peakRssMiB),
      threads: each((s) => s.threads),
      dbBytesPeakDelta: atPeak.dbBytes - before.dbBytes,
      dbBytesRoundDelta: after.dbBytes - before.dbBytes,
      blobBytesPeak: atPeak.blobBytes - before.blobBytes,
      blobBytesAfter: after.blobBytes - before.blobBytes,
    },
  };
}

/** The 1,000-clinic rows: one embedded process, then two Postgres replicas. */
export async function processRows(clinics: number, presetId: PresetId, concurrency: number): Promise<{ rows: object[]; encryptSeconds: number[] }> {
  const rows: object[] = [];
  const encryptSeconds: number[] = [];
  for (const start of [embeddedProcess, () => postgresReplicas(2)]) {
    const deployment = await start();
    try {
      const result = await oneRound(deployment, clinics, presetId, concurrency);
      rows.push(result.row);
      encryptSeconds.push(result.encryptSeconds);
    } finally {
      await deployment.stop();
    }
  }
  return { rows, encryptSeconds };
}
