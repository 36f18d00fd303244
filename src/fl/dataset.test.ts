import { describe, expect, it } from 'vitest';
import { TOKEN_LIMIT, classCounts, localSplit, splitClinics, syntheticDataset, tokenSet } from './dataset.ts';
import type { TokenSet } from './dataset.ts';

const { train, test } = syntheticDataset({ seed: 3, trainPerClass: 150, testPerClass: 20 });

/** Sorted fingerprints (first two values + label) of every token, to check a split is a partition. */
function fingerprints(sets: readonly TokenSet[]): string[] {
  return sets
    .flatMap((s) => Array.from(s.labels, (label, t) => `${s.tokens[t * s.dim]},${s.tokens[t * s.dim + 1]},${label}`))
    .sort();
}

describe('synthetic [CLS] dataset', () => {
  it('is deterministic for a seed, different for another, balanced, and bounded like ViT tokens', () => {
    const again = syntheticDataset({ seed: 3, trainPerClass: 150, testPerClass: 20 });
    expect(again.train.tokens).toEqual(train.tokens);
    expect(again.test.labels).toEqual(test.labels);
    const other = syntheticDataset({ seed: 4, trainPerClass: 150, testPerClass: 20 });
    expect(other.train.tokens[0]).not.toBe(train.tokens[0]);
    expect(train.dim).toBe(768);
    expect(classCounts(train)).toEqual([150, 150, 150]);
    expect(classCounts(test)).toEqual([20, 20, 20]);
    let max = 0;
    let sumSq = 0;
    for (const v of train.tokens) {
      max = Math.max(max, Math.abs(v));
      sumSq += v * v;
    }
    expect(max).toBeLessThanOrEqual(TOKEN_LIMIT);
    // Per-token norm ~ 30, like a ViT-B [CLS] after LayerNorm (~27.7).
    expect(Math.sqrt(sumSq / train.count)).toBeGreaterThan(20);
    expect(Math.sqrt(sumSq / train.count)).toBeLessThan(45);
  });

  it('splits over clinics as a partition: iid equal, label-skew skewed labels, quantity-skew skewed sizes', () => {
    const all = fingerprints([train]);
    const iid = splitClinics(train, 3, 'iid', 1);
    expect(iid.map((c) => c.count)).toEqual([150, 150, 150]);
    expect(fingerprints(iid)).toEqual(all);

    const label = splitClinics(train, 3, 'label-skew', 1);
    expect(fingerprints(label)).toEqual(all);
    const shares = label.map((c) => Math.max(...classCounts(c)) / c.count);
    expect(Math.max(...shares)).toBeGreaterThan(0.6); // iid would give ~1/3
    expect(label.every((c) => c.count >= 20)).toBe(true);

    const quantity = splitClinics(train, 3, 'quantity-skew', 1);
    expect(fingerprints(quantity)).toEqual(all);
    const sizes = quantity.map((c) => c.count);
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeGreaterThan(1.5);
    expect(splitClinics(train, 3, 'label-skew', 1)[0]!.tokens).toEqual(label[0]!.tokens);
  });

  it('makes a seeded local train/validation split and rejects bad arguments precisely', () => {
    const { train: t, validation: v } = localSplit(train, 0.1, 9);
    expect([t.count, v.count]).toEqual([405, 45]);
    expect(fingerprints([t, v])).toEqual(fingerprints([train]));
    expect(localSplit(train, 0.1, 9).validation.tokens).toEqual(v.tokens);
    expect(() => localSplit(train, 1, 9)).toThrow('validation fraction 1 must be in (0, 1)');
    expect(() => splitClinics(train, 30, 'iid', 1)).toThrow('450 tokens cannot give 30 clinics 20 tokens each');
    expect(() => splitClinics(train, 3, 'bogus' as 'iid', 1)).toThrow("unknown split 'bogus'");
    expect(() => syntheticDataset({ seed: 1, trainPerClass: 0, testPerClass: 1 })).toThrow('trainPerClass 0 must be a positive integer');
    expect(tokenSet(2, 3, Float32Array.from([1, 2, 3, 4]), Int32Array.from([0, 2])).count).toBe(2);
    expect(() => tokenSet(2, 3, Float32Array.from([1, 2, 3]), Int32Array.from([0, 2]))).toThrow('3 values do not hold 2 tokens of dim 2');
    expect(() => tokenSet(2, 3, Float32Array.from([1, 2, 3, 4]), Int32Array.from([0, 3]))).toThrow('label 3 is not a class in 0..2');
  });
});
