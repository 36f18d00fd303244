// Issue 11 findings 2 and 3 against the real coordinator: a clinic that uploads another shape (2 ciphertexts, or
// another scale), even before anyone else, cannot wedge the round: a declared shape refuses it with 422, an
// undeclared one lets aggregation set it aside; an upload that cannot be added at aggregation is quarantined and the round
// closes with the rest (or fails visibly below the quorum, and the next round opens); an admin can reset a round;
// an upload racing the deadline is either acknowledged and in the aggregate, or refused naming the next round.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../common/sha256.ts';
import { HeContext } from '../he/context.ts';
import { aggregationScaleBits, decryptWeightedMean, encryptWeightedContribution } from '../he/aggregate.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey } from '../he/tokens.ts';
import type { RoundView } from '../protocol/api.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { adminFederation, enrol, type HttpCall, type PooledCoordinator, type RunningCoordinator, startPooledCoordinator, TEST_ADMIN_TOKEN } from './testing.ts';

let running: PooledCoordinator;
let pool: PooledCoordinator['pool'];
let coordinator: RunningCoordinator;
let call: HttpCall;
let ctx: HeContext;
beforeAll(async () => {
  running = await startPooledCoordinator();
  ({ pool, coordinator, call } = running);
  ctx = await HeContext.create('agg-v1');
});
afterAll(async () => {
  ctx.dispose();
  await running.stop();
});

const DIM = 8;
const tokens = (c: number): Float32Array[] => [Float32Array.from({ length: DIM }, (_, d) => Math.sin(c * 5 + d))];

async function waitFor(token: string, fid: string, round: number, statuses: RoundView['status'][]): Promise<RoundView> {
  for (let i = 0; i < 200; i++) {
    const r = await call<RoundView>('GET', `/api/federations/${fid}/rounds/${round}`, { token });
    if (statuses.includes(r.body.status)) return r.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`round ${round} never reached ${statuses.join('/')}`);
}

async function setup(minClinics: number, clinics: number, roundSeconds?: number, shape?: { ciphertextCount: number; scaleBits: number }) {
  const { federationId, codes } = await adminFederation(call, { minClinics, invites: clinics, ...(roundSeconds ? { roundSeconds } : {}), ...(shape ? { shape } : {}) });
  const enrolled = await Promise.all(codes.map((c, i) => enrol(call, c, `H${i}`)));
  const secretKey = await generateSecretKey(ctx, federationId);
  const upload = (i: number, body: Uint8Array, round = 1) =>
    call<{ error: string; message: string; sha256: string }>('POST', `/api/federations/${federationId}/rounds/${round}/uploads`, { token: enrolled[i]?.token, binary: body });
  return { federationId, enrolled, secretKey, upload, token: enrolled[0]?.token as string };
}

describe('a round has a declared shape', () => {
  const round = { clinicCount: 3 };
  const poisons = {
    count: async (federationId: string, secretKey: Uint8Array) =>
      encodeBundle([...(await encryptWeightedContribution(ctx, secretKey, federationId, new Float64Array(DIM), 1, round)), ...(await encryptWeightedContribution(ctx, secretKey, federationId, new Float64Array(DIM), 1, round))]),
    scale: async (federationId: string, secretKey: Uint8Array) =>
      encodeBundle(await encryptWeightedContribution(ctx, secretKey, federationId, Float64Array.from({ length: DIM }, () => 1), 1, { clinicCount: 3, maxCount: 1 })),
  };
  const honest = async (federationId: string, secretKey: Uint8Array, c: number) =>
    encodeBundle(await encryptWeightedContribution(ctx, secretKey, federationId, Float64Array.from({ length: DIM }, (_, d) => c + d / 10), 1, round));

  it('refuses, before anyone else has uploaded, 2 ciphertexts where the round declares 1 and a ciphertext at another scale; the round still closes', async () => {
    const shape = { ciphertextCount: 1, scaleBits: aggregationScaleBits(ctx, round) };
    const { federationId, secretKey, upload, token } = await setup(2, 3, undefined, shape);
    const view = await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token });
    expect(view.body.spec).toEqual({ presetId: 'agg-v1', ...shape, markerSlots: 0 });

    const refusedCount = await upload(0, await poisons.count(federationId, secretKey));
    expect(refusedCount.status).toBe(422);
    expect(refusedCount.body.message).toMatch(/takes 1 ciphertext.*has 2/);
    const refusedScale = await upload(0, await poisons.scale(federationId, secretKey));
    expect(refusedScale.status).toBe(422);
    expect(refusedScale.body.message).toContain(`scale 2^${shape.scaleBits}`);
    expect((await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token })).body.submitted).toEqual([]);

    // The poisoner, refused, can still upload a proper contribution; everyone uploads and the round closes.
    for (const c of [0, 1, 2]) expect((await upload(c, await honest(federationId, secretKey, c))).status).toBe(201);
    const closed = await waitFor(token, federationId, 1, ['closed']);
    expect(closed.submitted.sort()).toEqual(['H0', 'H1', 'H2']);
    const aggregate = await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token });
    const mean = await decryptWeightedMean(ctx, secretKey, decodeBundle(aggregate.bytes), DIM);
    expect(Math.abs((mean.mean[0] ?? NaN) - 1)).toBeLessThan(1e-6); // (0 + 1 + 2) / 3
    expect((await call<RoundView>('GET', `/api/federations/${federationId}/rounds/2`, { token })).body.status).toBe('collecting');
  });

  it('without a declared shape, a clinic that uploads another shape first decides nothing: the others are accepted and it is quarantined', async () => {
    for (const poison of ['count', 'scale'] as const) {
      const { federationId, secretKey, upload, token } = await setup(2, 3);
      expect((await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token })).body.spec).toEqual({ presetId: 'agg-v1', ciphertextCount: null, scaleBits: null, markerSlots: 0 });
      expect((await upload(0, await poisons[poison](federationId, secretKey))).status).toBe(201);
      expect((await upload(1, await honest(federationId, secretKey, 1))).status).toBe(201);
      expect((await upload(2, await honest(federationId, secretKey, 2))).status).toBe(201);
      const closed = await waitFor(token, federationId, 1, ['closed', 'failed']);
      expect(closed.status).toBe('closed');
      expect(closed.quarantined).toEqual(['H0']);
      expect(closed.submittedIds).toHaveLength(2);
      const mean = await decryptWeightedMean(ctx, secretKey, decodeBundle((await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token })).bytes), DIM);
      expect(Math.abs((mean.mean[0] ?? NaN) - 1.5)).toBeLessThan(1e-6); // (1 + 2) / 2: the poisoner is not in it
      expect(mean.totalCount).toBe(2);
    }
  });

  it('quarantines an upload that cannot be read at aggregation and closes with the rest; below the quorum the round fails visibly', async () => {
    for (const quorum of [2, 3]) {
      const { federationId, secretKey, upload, token } = await setup(quorum, 3);
      const bodies = await Promise.all([0, 1, 2].map(async (c) => encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokens(c)))));
      const first = await upload(0, bodies[0] as Uint8Array);
      const second = await upload(1, bodies[1] as Uint8Array);
      expect([first.status, second.status]).toEqual([201, 201]);
      // The stored copy of H1's upload goes bad on disk (a coordinator's disk, or someone with access to it).
      const dir = join(coordinator.dataDir, 'blobs');
      expect(readdirSync(dir)).toContain(second.body.sha256);
      writeFileSync(join(dir, second.body.sha256), new Uint8Array(100));
      expect((await upload(2, bodies[2] as Uint8Array)).status).toBe(201);
      const done = await waitFor(token, federationId, 1, ['closed', 'failed']);
      expect(done.quarantined).toEqual(['H1']);
      if (quorum === 2) {
        expect(done.status).toBe('closed');
        const sum = await decryptTokenBatch(ctx, secretKey, decodeBundle((await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token })).bytes), 1, DIM);
        for (let d = 0; d < DIM; d++) expect(Math.abs((sum[0]?.[d] ?? NaN) - ((tokens(0)[0]?.[d] ?? 0) + (tokens(2)[0]?.[d] ?? 0)))).toBeLessThan(1e-6);
      } else {
        expect(done.status).toBe('failed');
        expect(done.failure).toMatch(/quorum is 3/);
        expect((await call<RoundView>('GET', `/api/federations/${federationId}/rounds/2`, { token })).body.status).toBe('collecting');
      }
    }
  });

  it('lets the admin see rounds and reset one that is not closed', async () => {
    const { federationId, secretKey, upload, token } = await setup(3, 3);
    expect((await upload(0, encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokens(0))))).status).toBe(201);
    const admin = { token: TEST_ADMIN_TOKEN };
    const listed = await call<RoundView[]>('GET', `/api/admin/federations/${federationId}/rounds`, admin);
    expect(listed.body[0]?.submitted).toEqual(['H0']);
    expect((await call('POST', `/api/admin/federations/${federationId}/rounds/1/reset`, { token })).status).toBe(401);
    const reset = await call<RoundView>('POST', `/api/admin/federations/${federationId}/rounds/1/reset`, admin);
    expect(reset.status).toBe(200);
    expect(reset.body.submitted).toEqual([]);
    expect(reset.body.status).toBe('collecting');
    expect((await call('POST', `/api/admin/federations/${federationId}/rounds/9/reset`, admin)).status).toBe(409);
  });
});

describe('acknowledged means included', () => {
  it('puts every acknowledged upload of a deadline race into the aggregate and refuses the others naming the next round', async () => {
    const clinics = 6;
    const { federationId, enrolled, secretKey, upload, token } = await setup(1, clinics, 5);
    const bodies = await Promise.all(Array.from({ length: clinics }, async (_, c) => encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokens(c)))));
    expect((await upload(0, bodies[0] as Uint8Array)).status).toBe(201);
    const view = await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(view.body.deadlineAt) - Date.now() - 150)));
    const replies = await Promise.all(enrolled.slice(1).map((_, i) => upload(i + 1, bodies[i + 1] as Uint8Array)));
    const acknowledged = [0, ...replies.flatMap((r, i) => (r.status === 201 ? [i + 1] : []))];
    for (const r of replies.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.message).toContain('round 2');
    }
    const closed = await waitFor(token, federationId, 1, ['closed']);
    expect(closed.submitted.sort()).toEqual(acknowledged.map((c) => `H${c}`).sort());
    const sum = await decryptTokenBatch(ctx, secretKey, decodeBundle((await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token })).bytes), 1, DIM);
    for (let d = 0; d < DIM; d++) {
      const expected = acknowledged.reduce((s, c) => s + (tokens(c)[0]?.[d] ?? 0), 0);
      expect(Math.abs((sum[0]?.[d] ?? NaN) - expected)).toBeLessThan(1e-6);
    }
  });

  it('refuses an upload whose validation finishes after the deadline closed the round, naming round 2; the aggregate holds exactly the acknowledged uploads', async () => {
    const { federationId, secretKey, upload, token } = await setup(1, 2, 5);
    const bodies = await Promise.all([0, 1].map(async (c) => encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokens(c)))));
    expect((await upload(0, bodies[0] as Uint8Array)).status).toBe(201);
    // H1's ciphertext is still in SEAL's hands when the deadline closes the round (finding 3, made certain).
    const validate = pool.validateCiphertext.bind(pool);
    pool.validateCiphertext = async (...args) => {
      const result = await validate(...args);
      await waitFor(token, federationId, 1, ['aggregating', 'closed']);
      return result;
    };
    let late;
    try {
      late = await upload(1, bodies[1] as Uint8Array);
    } finally {
      pool.validateCiphertext = validate;
    }
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/round 1 is (aggregating|closed); upload to round 2/);
    expect(readdirSync(join(coordinator.dataDir, 'blobs'))).not.toContain(sha256Hex(bodies[1] as Uint8Array)); // refused: not kept
    const closed = await waitFor(token, federationId, 1, ['closed']);
    expect(closed.submitted).toEqual(['H0']);
    const sum = await decryptTokenBatch(ctx, secretKey, decodeBundle((await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token })).bytes), 1, DIM);
    for (let d = 0; d < DIM; d++) expect(Math.abs((sum[0]?.[d] ?? NaN) - (tokens(0)[0]?.[d] ?? NaN))).toBeLessThan(1e-6);
    expect((await upload(1, bodies[1] as Uint8Array, 2)).status).toBe(201);
  });
});
