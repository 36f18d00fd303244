// Bench suite `coordinator`. For 3, 10 and 30 clinics, the real service in-process with the bench (Fastify +
// node:sqlite + HE worker pool) on loopback, one request at a time: enrolment, a round-state read, ciphertext upload
// (validation included), and the time from the last upload of a round to its encrypted aggregate being served. For
// 1,000 clinics, coordinator processes apart from the bench (coordinator-processes.ts): one on the embedded
// defaults and two replicas on one Postgres, with RSS, threads and the state and blob bytes a round adds.
import { HeContext } from '../src/he/context.ts';
import { encryptTokenBatch, generateSecretKey } from '../src/he/tokens.ts';
import type { RoundView } from '../src/protocol/api.ts';
import { encodeBundle } from '../src/protocol/bundle.ts';
import { adminFederation, enrol, httpClient, startCoordinator } from '../src/coordinator/testing.ts';
import { percentile, processRows } from './coordinator-processes.ts';

/** Clinics of the large rows, and the requests they keep in flight. */
const LARGE_FEDERATION = 1000;
const LARGE_CONCURRENCY = 8;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

async function inProcessRows(): Promise<object[]> {
  const coordinator = await startCoordinator();
  const call = httpClient(coordinator.url);
  const ctx = await HeContext.create('agg-v1');
  const rows: object[] = [];
  try {
    const token768 = (seed: number) => [Float32Array.from({ length: 768 }, (_, d) => Math.sin(seed + d))];
    for (const clinics of [3, 10, 30]) {
      const { federationId, codes } = await adminFederation(call, { minClinics: clinics, invites: clinics });
      const enrolMs: number[] = [];
      const members = [];
      for (const [i, code] of codes.entries()) {
        const [ms, clinic] = await timed(() => enrol(call, code, `B${i}`));
        enrolMs.push(ms);
        members.push(clinic);
      }
      const secretKey = await generateSecretKey(ctx, federationId);
      const bundles = await Promise.all(members.map(async (_, i) => encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, token768(i)))));
      const uploadMs: number[] = [];
      for (const [i, clinic] of members.entries()) {
        const [ms] = await timed(() => call('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: bundles[i] }));
        uploadMs.push(ms);
      }
      const lastUploadAt = performance.now() - (uploadMs.at(-1) ?? 0) / 2;
      const token = members[0]?.token as string;
      const readMs: number[] = [];
      for (;;) {
        const [ms, r] = await timed(() => call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token }));
        readMs.push(ms);
        if (r.body.status === 'closed') break;
      }
      const aggregateMs = performance.now() - lastUploadAt;
      const aggregate = await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token });
      rows.push({
        setup: 'in the bench process, node:sqlite + blob files',
        clinics,
        preset: 'agg-v1',
        uploadBytes: bundles[0]?.byteLength,
        concurrency: 1,
        enrolMsP50: percentile(enrolMs, 50),
        enrolMsP99: percentile(enrolMs, 99),
        uploadMsP50: percentile(uploadMs, 50),
        uploadMsP99: percentile(uploadMs, 99),
        roundReadMsP50: percentile(readMs, 50),
        lastUploadToAggregateMs: aggregateMs,
        aggregateBytes: aggregate.bytes.byteLength,
      });
    }
  } finally {
    ctx.dispose();
    await coordinator.stop();
  }
  return rows;
}

export async function run(): Promise<{ rows: object[] } & Record<string, unknown>> {
  const rows = await inProcessRows();
  // agg-wide-v1: what src/he/README.md asks of federations past a few hundred clinics (agg-v1's 59 bits run short).
  const large = await processRows(LARGE_FEDERATION, 'agg-wide-v1', LARGE_CONCURRENCY);
  return {
    rows: [...rows, ...large.rows],
    heWorkersPerProcess: 1,
    ciphertexts: `every clinic encrypts its own 768-value token (distinct bytes, checked); ${LARGE_FEDERATION} encryptions took ${large.encryptSeconds.map((s) => s.toFixed(1)).join(' s and ')} s in the bench`,
    sizes: 'dbBytes*: node:sqlite file + WAL, or pg_database_size (bytea blobs included) from before the first upload to every upload in (Peak) and to the round closed and its uploads deleted (Round); blobBytes*: the blob store',
  };
}
