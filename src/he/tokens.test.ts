import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeContext } from './context.ts';
import { HeError } from './errors.ts';
import { maxAbsDiff, syntheticTokens as makeTokens } from './testing.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey, sumCiphertexts, tokensPerCiphertext } from './tokens.ts';

describe('token batches under agg-v1', () => {
  let ctx: HeContext;
  let key: Uint8Array;
  beforeAll(async () => {
    ctx = await HeContext.create('agg-v1');
    key = await generateSecretKey(ctx, 'fed-a');
  });
  afterAll(() => ctx.dispose());

  it('is cached per preset', async () => {
    expect(await HeContext.create('agg-v1')).toBe(ctx);
    expect(ctx.slotCount).toBe(4096);
  });

  it.each([
    [192, 1],
    [192, 20],
    [768, 1],
    [768, 7],
    [768, 20],
  ])('round-trips %i-dim tokens x %i within 1e-6', async (dim, count) => {
    const tokens = makeTokens(count, dim, dim * 100 + count);
    const cts = await encryptTokenBatch(ctx, key, 'fed-a', tokens);
    expect(cts).toHaveLength(Math.ceil(count / tokensPerCiphertext(ctx, dim)));
    const back = await decryptTokenBatch(ctx, key, cts, count, dim);
    expect(back).toHaveLength(count);
    back.forEach((token, t) => expect(maxAbsDiff(token, tokens[t] as Float32Array)).toBeLessThan(1e-6));
  });

  it('seeded uploads of one full ciphertext stay under 64 KiB', async () => {
    const [ct] = await encryptTokenBatch(ctx, key, 'fed-a', makeTokens(5, 768, 3));
    expect(ct!.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('sums 3 clinics index-wise to the plaintext sum within 1e-6', async () => {
    const clinics = [1, 2, 3].map((seed) => makeTokens(12, 768, seed));
    const uploads = await Promise.all(clinics.map((tokens) => encryptTokenBatch(ctx, key, 'fed-a', tokens)));
    const sums = await sumCiphertexts(ctx, 'fed-a', uploads);
    const back = await decryptTokenBatch(ctx, key, sums, 12, 768);
    back.forEach((token, t) => {
      const expected = token.map((_, i) => clinics.reduce((s, c) => s + (c[t]![i] as number), 0));
      expect(maxAbsDiff(token, expected)).toBeLessThan(1e-6);
    });
  });

  it('rejects a clinic from another federation, a short upload and out-of-range values', async () => {
    const ours = await encryptTokenBatch(ctx, key, 'fed-a', makeTokens(2, 192, 5));
    const otherKey = await generateSecretKey(ctx, 'fed-b');
    const theirs = await encryptTokenBatch(ctx, otherKey, 'fed-b', makeTokens(2, 192, 6));
    await expect(sumCiphertexts(ctx, 'fed-a', [ours, theirs])).rejects.toMatchObject({
      code: 'envelope:wrong-federation',
      message: expect.stringContaining('clinic 1 ciphertext 0'),
    });
    await expect(sumCiphertexts(ctx, 'fed-a', [ours, []])).rejects.toMatchObject({ code: 'mismatch' });
    const huge = [new Float32Array(192).fill(1e9)];
    await expect(encryptTokenBatch(ctx, key, 'fed-a', huge)).rejects.toBeInstanceOf(HeError);
    await expect(encryptTokenBatch(ctx, key, 'fed-b', makeTokens(1, 192, 7))).rejects.toMatchObject({ code: 'envelope:wrong-federation' });
  });

  it('rejects ciphertexts of the other preset before SEAL sees them', async () => {
    const inf = await HeContext.create('inf-v1');
    const infKey = await generateSecretKey(inf, 'fed-a');
    const infCts = await encryptTokenBatch(inf, infKey, 'fed-a', makeTokens(1, 192, 9));
    const ours = await encryptTokenBatch(ctx, key, 'fed-a', makeTokens(1, 192, 9));
    await expect(sumCiphertexts(ctx, 'fed-a', [ours, infCts])).rejects.toMatchObject({ code: 'envelope:wrong-preset' });
    await expect(decryptTokenBatch(ctx, infKey, ours, 1, 192)).rejects.toMatchObject({ code: 'envelope:wrong-preset' });
  });
});
