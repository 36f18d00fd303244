import { afterAll, describe, expect, it } from 'vitest';
import { HeContext } from './context.ts';
import { HeNodePool } from './node-pool.ts';
import { decryptLogits, encryptInferenceInput, generateInferenceKeys, inferenceLayout } from './inference.ts';
import { maxAbsDiff, plainLogits, syntheticHead, syntheticTokens } from './testing.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey } from './tokens.ts';

describe('HeNodePool (worker_threads)', () => {
  const pool = HeNodePool.start(1);
  afterAll(() => pool.close());

  it('sums clinics off the main thread and validates ciphertexts with typed errors', async () => {
    const ctx = await HeContext.create('agg-v1');
    const key = await generateSecretKey(ctx, 'fed-pool');
    const clinics = [0.25, -1.5, 3].map((v) => [new Float32Array(192).fill(v), new Float32Array(192).fill(2 * v)]);
    const uploads = await Promise.all(clinics.map((tokens) => encryptTokenBatch(ctx, key, 'fed-pool', tokens)));

    const sums = await pool.sumCiphertexts('agg-v1', 'fed-pool', uploads);
    const [a, b] = await decryptTokenBatch(ctx, key, sums, 2, 192);
    expect(Math.max(...a!.map((v) => Math.abs(v - 1.75)))).toBeLessThan(1e-6);
    expect(Math.max(...b!.map((v) => Math.abs(v - 3.5)))).toBeLessThan(1e-6);

    await expect(pool.validateCiphertext('agg-v1', 'fed-pool', uploads[0]![0]!)).resolves.toEqual({ scaleBits: 40 }); // the preset's token-batch scale
    await expect(pool.validateCiphertext('agg-v1', 'fed-other', uploads[0]![0]!)).rejects.toMatchObject({
      name: 'HeError',
      code: 'envelope:wrong-federation',
    });
    const corrupt = uploads[0]![0]!.slice();
    corrupt.fill(7, 200, 400);
    await expect(pool.validateCiphertext('agg-v1', 'fed-pool', corrupt)).rejects.toMatchObject({ code: 'seal' });
  });

  it('runs registered heads on registered keys in the worker thread', async () => {
    const ctx = await HeContext.create('inf-v1');
    const key = await generateSecretKey(ctx, 'fed-pool');
    const layout = inferenceLayout(ctx, 'single', 3, 192);
    const { galoisKeys } = generateInferenceKeys(ctx, key, 'fed-pool', [layout], { relin: false });
    const head = syntheticHead(3, 192, 2);
    await pool.registerInferenceKeys('inf-v1', 'fed-pool', 'keys-1', galoisKeys);
    await pool.registerHead('inf-v1', 'fed-pool', 'head-1', layout, { encrypted: false, head });
    const tokens = syntheticTokens(2, 192, 3);
    const groups = encryptInferenceInput(ctx, key, 'fed-pool', tokens, layout);
    const results = await pool.evaluateLinear('inf-v1', 'fed-pool', 'head-1', 'keys-1', groups);
    results.forEach((r, t) => {
      const [logits] = decryptLogits(ctx, key, r, layout, 1);
      expect(maxAbsDiff(logits!, plainLogits(head, tokens[t]!))).toBeLessThan(1e-4);
    });
    await pool.release('head-1');
    await expect(pool.evaluateLinear('inf-v1', 'fed-pool', 'head-1', 'keys-1', groups)).rejects.toMatchObject({
      code: 'bad-argument',
      message: expect.stringContaining("no head registered as 'head-1'"),
    });
  });

  it('recovers from a thread killed mid-request: registrations replayed, the in-flight call retried', async () => {
    const ctx = await HeContext.create('inf-v1');
    const key = await generateSecretKey(ctx, 'fed-kill');
    const layout = inferenceLayout(ctx, 'single', 3, 192);
    const { galoisKeys } = generateInferenceKeys(ctx, key, 'fed-kill', [layout], { relin: false });
    const head = syntheticHead(3, 192, 5);
    await pool.registerInferenceKeys('inf-v1', 'fed-kill', 'keys-k', galoisKeys);
    await pool.registerHead('inf-v1', 'fed-kill', 'head-k', layout, { encrypted: false, head });
    const tokens = syntheticTokens(24, 192, 7);
    const groups = encryptInferenceInput(ctx, key, 'fed-kill', tokens, layout);

    const [victim] = pool.threadIds;
    let killed = false;
    // Kill the thread once it has evaluated the first group, so the request is truly in flight.
    const running = pool.evaluateLinear('inf-v1', 'fed-kill', 'head-k', 'keys-k', groups, {
      onProgress: ({ done }) => {
        if (done === 1 && !killed) {
          killed = true;
          void pool.terminateThread(0);
        }
      },
    });
    const results = await running;
    expect(killed).toBe(true);
    expect(pool.respawns).toBe(1);
    expect(pool.retries).toBe(1);
    expect(pool.threadIds).not.toContain(victim);
    results.forEach((r, t) => {
      const [logits] = decryptLogits(ctx, key, r, layout, 1);
      expect(maxAbsDiff(logits!, plainLogits(head, tokens[t]!))).toBeLessThan(1e-4);
    });
    // The next request on the respawned thread finds the replayed head and keys.
    const again = await pool.evaluateLinear('inf-v1', 'fed-kill', 'head-k', 'keys-k', groups.slice(0, 1));
    expect(maxAbsDiff(decryptLogits(ctx, key, again[0]!, layout, 1)[0]!, plainLogits(head, tokens[0]!))).toBeLessThan(1e-4);
  });
});
