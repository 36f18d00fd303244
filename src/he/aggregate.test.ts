import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregationPresetFor, aggregationScaleBits, decryptWeightedMean, encryptWeightedContribution, weightedCiphertextCount } from './aggregate.ts';
import { HeContext } from './context.ts';
import { packHead } from './head.ts';
import { seededRandom, syntheticHead } from './testing.ts';
import { generateSecretKey, sumCiphertexts } from './tokens.ts';

const CLASSES = 3;
const DIM = 768;
const LENGTH = CLASSES * DIM + CLASSES;

function relativeError(got: Float64Array, want: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let k = 0; k < want.length; k++) {
    err = Math.max(err, Math.abs((got[k] as number) - (want[k] as number)));
    scale = Math.max(scale, Math.abs(want[k] as number));
  }
  return err / scale;
}

describe('weighted aggregation with counts inside the ciphertext (agg-v1)', () => {
  let ctx: HeContext;
  let key: Uint8Array;
  beforeAll(async () => {
    ctx = await HeContext.create('agg-v1');
    key = await generateSecretKey(ctx, 'fed-agg');
  });
  afterAll(() => ctx.dispose());

  it('packs a 3x768 head, 3 biases and the count in one ciphertext', () => {
    expect(weightedCiphertextCount(ctx, LENGTH)).toBe(1);
    expect(aggregationScaleBits(ctx, { clinicCount: 3 })).toBe(36);
    expect(aggregationScaleBits(ctx, { clinicCount: 1000 })).toBe(28);
  });

  it.each([3, 100, 1000])('%i clinics with counts up to 100,000 decrypt to the weighted mean within 1e-6', async (clinics) => {
    const { uniform } = seededRandom(clinics);
    const heads = Array.from({ length: clinics }, (_, i) => packHead(syntheticHead(CLASSES, DIM, 1000 * clinics + i)));
    // Mix of tiny and maximal counts: the first clinic has one tile, the second the maximum.
    const counts = heads.map((_, i) => (i === 0 ? 1 : i === 1 ? 100_000 : 1 + Math.floor(uniform() * 100_000)));
    const round = { clinicCount: clinics };
    const uploads = await Promise.all(
      heads.map((h, i) => encryptWeightedContribution(ctx, key, 'fed-agg', h, counts[i] as number, round)),
    );
    expect(uploads[0]![0]!.length).toBeLessThanOrEqual(64 * 1024);
    const sums = await sumCiphertexts(ctx, 'fed-agg', uploads);
    const { mean, totalCount } = await decryptWeightedMean(ctx, key, sums, LENGTH);

    const total = counts.reduce((a, b) => a + b, 0);
    expect(totalCount).toBe(total);
    const want = new Float64Array(LENGTH);
    heads.forEach((h, i) => h.forEach((v, k) => (want[k] = (want[k] as number) + (counts[i] as number) * v)));
    want.forEach((v, k) => (want[k] = v / total));
    expect(relativeError(mean, want)).toBeLessThan(1e-6);
  });

  it.each([3, 100])('stays within 1e-6 when each of %i clinics has a single tile (worst case)', async (clinics) => {
    const heads = Array.from({ length: clinics }, (_, i) => packHead(syntheticHead(CLASSES, DIM, 7 + i)));
    const round = { clinicCount: clinics };
    const uploads = await Promise.all(heads.map((h) => encryptWeightedContribution(ctx, key, 'fed-agg', h, 1, round)));
    const { mean, totalCount } = await decryptWeightedMean(ctx, key, await sumCiphertexts(ctx, 'fed-agg', uploads), LENGTH);
    expect(totalCount).toBe(clinics);
    const want = heads[0]!.map((_, k) => heads.reduce((s, h) => s + (h[k] as number), 0) / clinics);
    expect(relativeError(mean, want)).toBeLessThan(1e-6);
  });

  it('refuses out-of-bound counts and values, and sums across rounds with different scales', async () => {
    const head = packHead(syntheticHead(CLASSES, DIM, 1));
    await expect(encryptWeightedContribution(ctx, key, 'fed-agg', head, 100_001, { clinicCount: 3 })).rejects.toMatchObject({
      code: 'out-of-range',
    });
    const tooBig = head.slice();
    tooBig[5] = 4.5;
    await expect(encryptWeightedContribution(ctx, key, 'fed-agg', tooBig, 10, { clinicCount: 3 })).rejects.toMatchObject({
      code: 'out-of-range',
    });
    const a = await encryptWeightedContribution(ctx, key, 'fed-agg', head, 10, { clinicCount: 3 });
    const b = await encryptWeightedContribution(ctx, key, 'fed-agg', head, 10, { clinicCount: 1000 });
    await expect(sumCiphertexts(ctx, 'fed-agg', [a, b])).rejects.toMatchObject({
      code: 'mismatch',
      message: expect.stringContaining('scale'),
    });
  });
});

describe('large federations move to agg-wide-v1 (two data primes)', () => {
  it('is chosen exactly when agg-v1 would encode below 2^30', () => {
    expect(aggregationPresetFor({ clinicCount: 3 })).toBe('agg-v1');
    expect(aggregationPresetFor({ clinicCount: 100 })).toBe('agg-v1');
    expect(aggregationPresetFor({ clinicCount: 1000 })).toBe('agg-wide-v1');
  });

  it('keeps 1000 single-tile clinics within 1e-6 (the case agg-v1 cannot hold)', async () => {
    const ctx = await HeContext.create('agg-wide-v1');
    const key = await generateSecretKey(ctx, 'fed-wide');
    const round = { clinicCount: 1000 };
    expect(aggregationScaleBits(ctx, round)).toBeGreaterThanOrEqual(80);
    const heads = Array.from({ length: 1000 }, (_, i) => packHead(syntheticHead(CLASSES, DIM, 5000 + i)));
    const uploads = await Promise.all(heads.map((h) => encryptWeightedContribution(ctx, key, 'fed-wide', h, 1, round)));
    const { mean, totalCount } = await decryptWeightedMean(ctx, key, await sumCiphertexts(ctx, 'fed-wide', uploads), LENGTH);
    expect(totalCount).toBe(1000);
    const want = heads[0]!.map((_, k) => heads.reduce((s, h) => s + (h[k] as number), 0) / 1000);
    expect(relativeError(mean, want)).toBeLessThan(1e-6);
    ctx.dispose();
  });
});
