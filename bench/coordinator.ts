// Bench suite `coordinator`: the real service in-process (Fastify + node:sqlite + HE worker pool) on loopback.
// Medians of repeated calls: enrolment, a round-state read, ciphertext upload (validation included), and the time
// from the last upload of a round to its encrypted aggregate being served, for 3, 10 and 30 clinics.
import { HeContext } from '../src/he/context.ts';
import { encryptTokenBatch, generateSecretKey } from '../src/he/tokens.ts';
import type { RoundView } from '../src/protocol/api.ts';
import { encodeBundle } from '../src/protocol/bundle.ts';
import { adminFederation, enrol, httpClient, startCoordinator } from '../src/coordinator/testing.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

export async function run(): Promise<{ rows: object[] }> {
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
        clinics,
        enrolMsMedian: median(enrolMs),
        uploadBytes: bundles[0]?.byteLength,
        uploadMsMedian: median(uploadMs),
        roundReadMsMedian: median(readMs),
        lastUploadToAggregateMs: aggregateMs,
        aggregateBytes: aggregate.bytes.byteLength,
      });
    }
  } finally {
    ctx.dispose();
    await coordinator.stop();
  }
  return { rows };
}
