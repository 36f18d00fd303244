// Encrypted inference through the real coordinator: a key holder publishes evaluation keys and a model (head in
// clear, then encrypted); a clinic sends encrypted tokens and decrypts logits that match the plaintext head.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClinicIdentity } from '../custody/identity.ts';
import { HeContext } from '../he/context.ts';
import { HeNodePool } from '../he/node-pool.ts';
import type { LinearHead } from '../he/head.ts';
import { decryptLogits, encryptHeadForInference, encryptInferenceInput, generateInferenceKeys, inferenceLayout } from '../he/inference.ts';
import { generateSecretKey } from '../he/tokens.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { encodeInferenceModel } from '../protocol/inference-model.ts';
import { adminFederation, enrol, type HttpCall, httpClient, type RunningCoordinator, startCoordinator } from './testing.ts';

let coordinator: RunningCoordinator;
let call: HttpCall;
let ctx: HeContext;
beforeAll(async () => {
  coordinator = await startCoordinator();
  call = httpClient(coordinator.url);
  ctx = await HeContext.create('inf-v1');
});
afterAll(async () => {
  ctx.dispose();
  await coordinator.stop();
});

const DIM = 64;
const CLASSES = 3;
const head: LinearHead = {
  classes: CLASSES,
  dim: DIM,
  weights: Float64Array.from({ length: CLASSES * DIM }, (_, i) => Math.sin(i * 0.7) * 0.2),
  biases: Float64Array.from([0.1, -0.2, 0.05]),
};
const tokens = Array.from({ length: 5 }, (_, t) => Float32Array.from({ length: DIM }, (_, d) => Math.cos(t * 3 + d * 0.3) * 2));
const plainLogits = (x: Float32Array) =>
  Array.from({ length: CLASSES }, (_, c) => (head.biases[c] ?? 0) + Array.from(x).reduce((s, v, d) => s + v * (head.weights[c * DIM + d] ?? 0), 0));

/** A federation whose first invitee becomes its key holder (founder); the other codes are returned for members. */
async function withKeyHolder(on: HttpCall, invites: number) {
  const { federationId, codes } = await adminFederation(on, { minClinics: 1, invites });
  const holder = await enrol(on, codes[0] as string, 'Holder');
  const identity = await createClinicIdentity();
  await on('PUT', '/api/me/public-key', { token: holder.token, binary: identity.publicKeyRaw });
  expect((await on('POST', `/api/federations/${federationId}/founder`, { token: holder.token })).status).toBe(200);
  return { federationId, holder, memberCodes: codes.slice(1), secretKey: await generateSecretKey(ctx, federationId) };
}

describe('encrypted inference endpoint', () => {
  it('serves logits within 1e-4 of plaintext for a clear head and an encrypted head, single and batched', async () => {
    const { federationId, holder, memberCodes, secretKey } = await withKeyHolder(call, 2);
    const member = await enrol(call, memberCodes[0] as string, 'Member');
    const single = inferenceLayout(ctx, 'single', CLASSES, DIM);
    const batched = inferenceLayout(ctx, 'batched', CLASSES, DIM, { tokensPerGroup: 8 });

    const infer = (token: string) => call('POST', `/api/federations/${federationId}/inference`, { token, binary: encodeBundle(encryptInferenceInput(ctx, secretKey, federationId, tokens, single).flat()) });
    expect((await infer(member.token)).status).toBe(409); // nothing published yet

    const keys = generateInferenceKeys(ctx, secretKey, federationId, [single, batched], { relin: true });
    expect((await call('PUT', `/api/federations/${federationId}/evaluation-keys/galois-keys`, { token: member.token, binary: keys.galoisKeys })).status).toBe(403);
    expect((await call('PUT', `/api/federations/${federationId}/evaluation-keys/galois-keys`, { token: holder.token, binary: keys.galoisKeys })).status).toBe(200);
    expect((await call('PUT', `/api/federations/${federationId}/evaluation-keys/relin-keys`, { token: holder.token, binary: keys.relinKeys })).status).toBe(200);

    for (const [layout, encrypted] of [
      [single, false],
      [single, true],
      [batched, false],
      [batched, true],
    ] as const) {
      const model = encrypted
        ? encodeInferenceModel({ layout, encrypted: true, ...encryptHeadForInference(ctx, secretKey, federationId, head, layout) })
        : encodeInferenceModel({ layout, encrypted: false, weights: Float64Array.from(head.weights), biases: Float64Array.from(head.biases) });
      const published = await call('PUT', `/api/federations/${federationId}/inference-model`, { token: holder.token, binary: model });
      expect(published.status).toBe(200);
      const meta = await call<{ encrypted: boolean; layout: { mode: string } }>('GET', `/api/federations/${federationId}/inference-model`, { token: member.token });
      expect(meta.body).toMatchObject({ encrypted, layout: { mode: layout.mode } });

      const groups = encryptInferenceInput(ctx, secretKey, federationId, tokens, layout);
      const response = await call('POST', `/api/federations/${federationId}/inference`, { token: member.token, binary: encodeBundle(groups.flat()) });
      expect(response.status).toBe(200);
      const results = decodeBundle(response.bytes);
      expect(results).toHaveLength(groups.length * layout.passes);
      const perGroup = layout.tokensPerGroup;
      for (let g = 0; g < groups.length; g++) {
        const count = Math.min(perGroup, tokens.length - g * perGroup);
        const logits = decryptLogits(ctx, secretKey, results.slice(g * layout.passes, (g + 1) * layout.passes), layout, count);
        for (let t = 0; t < count; t++) {
          const want = plainLogits(tokens[g * perGroup + t] as Float32Array);
          for (let c = 0; c < CLASSES; c++) expect(Math.abs((logits[t]?.[c] ?? NaN) - (want[c] ?? 0))).toBeLessThan(1e-4);
        }
      }
    }
    // Inputs in the wrong layout or of another federation are refused with a 400, not a crash.
    const wrong = encryptInferenceInput(ctx, await generateSecretKey(ctx, 'fed-other'), 'fed-other', tokens, batched);
    expect((await call('POST', `/api/federations/${federationId}/inference`, { token: member.token, binary: encodeBundle(wrong.flat()) })).status).toBe(400);
    expect((await call('PUT', `/api/federations/${federationId}/inference-model`, { token: holder.token, binary: encodeBundle([new TextEncoder().encode('{}')]) })).status).toBe(400);
  });

  it('answers correctly when its HE thread is killed in the middle of an inference request, and so does the next request', async () => {
    const pool = HeNodePool.start(1);
    const own = await startCoordinator({ pool });
    try {
      const ownCall = httpClient(own.url);
      const { federationId, holder, secretKey } = await withKeyHolder(ownCall, 1);
      const single = inferenceLayout(ctx, 'single', CLASSES, DIM);
      const keys = generateInferenceKeys(ctx, secretKey, federationId, [single], { relin: false });
      expect((await ownCall('PUT', `/api/federations/${federationId}/evaluation-keys/galois-keys`, { token: holder.token, binary: keys.galoisKeys })).status).toBe(200);
      const model = encodeInferenceModel({ layout: single, encrypted: false, weights: Float64Array.from(head.weights), biases: Float64Array.from(head.biases) });
      expect((await ownCall('PUT', `/api/federations/${federationId}/inference-model`, { token: holder.token, binary: model })).status).toBe(200);

      // The thread dies once it has evaluated the first of the five tokens, so the request is truly in flight.
      const evaluate = pool.evaluateLinear.bind(pool);
      let killed = false;
      pool.evaluateLinear = (presetId, fid, headId, keysId, groups, opts) =>
        evaluate(presetId, fid, headId, keysId, groups, {
          ...opts,
          onProgress: (progress) => {
            opts?.onProgress?.(progress);
            if (progress.done === 1 && !killed) {
              killed = true;
              void pool.terminateThread(0);
            }
          },
        });
      for (const attempt of ['in flight when the thread dies', 'the next one']) {
        const response = await ownCall('POST', `/api/federations/${federationId}/inference`, { token: holder.token, binary: encodeBundle(encryptInferenceInput(ctx, secretKey, federationId, tokens, single).flat()) });
        expect(response.status, attempt).toBe(200);
        const results = decodeBundle(response.bytes);
        tokens.forEach((x, t) => {
          const [logits] = decryptLogits(ctx, secretKey, results.slice(t, t + 1), single, 1);
          const want = plainLogits(x);
          for (let c = 0; c < CLASSES; c++) expect(Math.abs((logits?.[c] ?? NaN) - (want[c] ?? 0)), attempt).toBeLessThan(1e-4);
        });
      }
      expect(killed).toBe(true);
      expect(pool.respawns).toBe(1);
      expect(pool.retries).toBe(1);
    } finally {
      await own.stop();
      await pool.close();
    }
  });
});
