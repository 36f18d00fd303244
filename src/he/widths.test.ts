// Every token width the foundation models produce (ViT-S 384 ... Virchow's CLS||mean 2560) through encrypted
// inference and weighted aggregation: layouts and Galois steps follow from D, logits match plaintext within 1e-4,
// and a C x D + C + 1 head spans as many aggregation ciphertexts as it needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptWeightedMean, encryptWeightedContribution, weightedCiphertextCount } from './aggregate.ts';
import { HeContext } from './context.ts';
import { packHead } from './head.ts';
import {
  InferenceKeys,
  PreparedHead,
  decryptLogits,
  encryptInferenceInput,
  evaluateLinear,
  galoisSteps,
  generateInferenceKeys,
  inferenceLayout,
} from './inference.ts';
import { maxAbsDiff, plainLogits, syntheticHead, syntheticTokens } from './testing.ts';
import { generateSecretKey, sumCiphertexts } from './tokens.ts';

const WIDTHS = [384, 768, 1024, 1280, 1536, 2560] as const;
const FED = 'fed-widths';

describe('encrypted inference at every foundation-model token width (inf-v1)', () => {
  let ctx: HeContext;
  let key: Uint8Array;
  beforeAll(async () => {
    ctx = await HeContext.create('inf-v1');
    key = await generateSecretKey(ctx, FED);
  });
  afterAll(() => ctx.dispose());

  it('derives G, class lanes, passes and Galois steps from D', () => {
    const shape = WIDTHS.map((d) => {
      const l = inferenceLayout(ctx, 'single', 3, d);
      return [d, l.featuresPerCiphertext, l.classesPerPass, l.passes, galoisSteps(l).length];
    });
    expect(shape).toEqual([
      [384, 512, 8, 1, 9],
      [768, 1024, 4, 1, 10],
      [1024, 1024, 4, 1, 10],
      [1280, 2048, 2, 2, 11],
      [1536, 2048, 2, 2, 11],
      [2560, 4096, 1, 3, 12],
    ]);
    expect(galoisSteps(inferenceLayout(ctx, 'single', 3, 2560))).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(WIDTHS.map((d) => inferenceLayout(ctx, 'batched', 3, d).ciphertextsPerGroup)).toEqual([24, 48, 64, 80, 96, 160]);
  });

  it.each(WIDTHS)('D = %i: single and batched logits match plaintext within 1e-4', (dim) => {
    const head = syntheticHead(3, dim, dim);
    const single = inferenceLayout(ctx, 'single', 3, dim);
    const batched = inferenceLayout(ctx, 'batched', 3, dim, { tokensPerGroup: 256 });
    const uploaded = generateInferenceKeys(ctx, key, FED, [single, batched], { relin: false });
    const keys = InferenceKeys.load(ctx, FED, uploaded.galoisKeys);
    const tokens = syntheticTokens(5, dim, dim + 1);
    let worst = 0;
    for (const layout of [single, batched]) {
      const prepared = PreparedHead.plain(ctx, head, layout);
      try {
        const groups = encryptInferenceInput(ctx, key, FED, tokens, layout);
        groups.forEach((group, gi) => {
          const offset = gi * layout.tokensPerGroup;
          const count = Math.min(layout.tokensPerGroup, tokens.length - offset);
          decryptLogits(ctx, key, evaluateLinear(ctx, FED, group, prepared, keys), layout, count).forEach((logits, t) => {
            worst = Math.max(worst, maxAbsDiff(logits, plainLogits(head, tokens[offset + t] as Float32Array)));
          });
        });
      } finally {
        prepared.dispose();
      }
    }
    keys.dispose();
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('weighted aggregation of wide heads (agg-v1)', () => {
  it('a 3 x 2560 head + biases + count (7,684 values) spans 2 ciphertexts and decrypts to the weighted mean', async () => {
    const ctx = await HeContext.create('agg-v1');
    const key = await generateSecretKey(ctx, FED);
    const heads = [0, 1, 2].map((i) => packHead(syntheticHead(3, 2560, 50 + i)));
    const counts = [5, 700, 12_345];
    const round = { clinicCount: 3 };
    expect(WIDTHS.map((d) => weightedCiphertextCount(ctx, 3 * d + 3))).toEqual([1, 1, 1, 1, 2, 2]);
    const uploads = await Promise.all(heads.map((h, i) => encryptWeightedContribution(ctx, key, FED, h, counts[i] as number, round)));
    expect(uploads.map((u) => u.length)).toEqual([2, 2, 2]);
    const { mean, totalCount } = await decryptWeightedMean(ctx, key, await sumCiphertexts(ctx, FED, uploads), 3 * 2560 + 3);
    expect(totalCount).toBe(13_050);
    const want = heads[0]!.map((_, k) => heads.reduce((s, h, i) => s + (counts[i] as number) * (h[k] as number), 0) / 13_050);
    expect(maxAbsDiff(mean, want)).toBeLessThan(1e-8);
  });
});
