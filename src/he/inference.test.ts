import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeContext } from './context.ts';
import {
  InferenceKeys,
  PreparedHead,
  decryptLogits,
  encryptHeadForInference,
  encryptInferenceInput,
  evaluateLinear,
  galoisSteps,
  generateInferenceKeys,
  inferenceLayout,
} from './inference.ts';
import type { InferenceLayout } from './inference.ts';
import { maxAbsDiff, plainLogits, syntheticHead, syntheticTokens } from './testing.ts';
import { decryptSlots, generateSecretKey } from './tokens.ts';

const FED = 'fed-inf';
const argmax = (v: ArrayLike<number>) => Array.prototype.indexOf.call(v, Math.max(...Array.from(v)));

describe('encrypted linear inference (inf-v1)', () => {
  let ctx: HeContext;
  let key: Uint8Array;
  let single: InferenceLayout;
  let batched: InferenceLayout;
  let keys: InferenceKeys;
  const head = syntheticHead(3, 768, 11);

  beforeAll(async () => {
    ctx = await HeContext.create('inf-v1');
    key = await generateSecretKey(ctx, FED);
    single = inferenceLayout(ctx, 'single', 3, 768, { masked: true });
    batched = inferenceLayout(ctx, 'batched', 3, 768, { tokensPerGroup: 256, masked: true });
    const uploaded = generateInferenceKeys(ctx, key, FED, [single, batched], { relin: true });
    keys = InferenceKeys.load(ctx, FED, uploaded.galoisKeys, uploaded.relinKeys);
  });
  afterAll(() => {
    keys.dispose();
    ctx.dispose();
  });

  it('needs exactly log2(G) rotation steps', () => {
    expect(galoisSteps(single)).toEqual([4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(galoisSteps(inferenceLayout(ctx, 'single', 3, 192))).toEqual([16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(galoisSteps(batched)).toEqual([256, 512, 1024, 2048]);
    expect(batched.ciphertextsPerGroup).toBe(48);
  });

  it.each([false, true])('single image, encrypted head = %s: logits within 1e-4, masked slots ~0', (encrypted) => {
    const tokens = syntheticTokens(4, 768, 21);
    const prepared = encrypted
      ? PreparedHead.encrypted(ctx, FED, encryptHeadForInference(ctx, key, FED, head, single), single)
      : PreparedHead.plain(ctx, head, single);
    try {
      for (const [t, group] of encryptInferenceInput(ctx, key, FED, tokens, single).entries()) {
        expect(group).toHaveLength(1);
        const results = evaluateLinear(ctx, FED, group, prepared, keys);
        const [logits] = decryptLogits(ctx, key, results, single, 1);
        const want = plainLogits(head, tokens[t] as Float32Array);
        expect(maxAbsDiff(logits as Float64Array, want)).toBeLessThan(1e-4);
        const slots = decryptSlots(ctx, key, results[0] as Uint8Array, 'result');
        expect(maxAbsDiff(slots.subarray(single.classesPerPass), new Float64Array(slots.length - single.classesPerPass))).toBeLessThan(1e-6);
      }
    } finally {
      prepared.dispose();
    }
  });

  it('default (replicated) output holds only complete logits, never partial sums', () => {
    const layout = inferenceLayout(ctx, 'single', 3, 768);
    expect(layout.masked).toBe(false);
    const prepared = PreparedHead.plain(ctx, head, layout);
    try {
      const token = syntheticTokens(1, 768, 5)[0] as Float32Array;
      const [group] = encryptInferenceInput(ctx, key, FED, [token], layout);
      const slots = decryptSlots(ctx, key, evaluateLinear(ctx, FED, group!, prepared, keys)[0]!, 'result');
      const want = plainLogits(head, token);
      const replicas = slots.map((_, s) => (s % 4 < 3 ? (want[s % 4] as number) : 0));
      expect(maxAbsDiff(slots, replicas)).toBeLessThan(1e-4);
    } finally {
      prepared.dispose();
    }
  });

  it('batched: 1,000 tokens, logits within 1e-4 and the same argmax on every token', () => {
    const tokens = syntheticTokens(1000, 768, 31);
    const prepared = PreparedHead.plain(ctx, head, batched);
    let worst = 0;
    let argmaxMismatches = 0;
    try {
      encryptInferenceInput(ctx, key, FED, tokens, batched).forEach((group, gi) => {
        const offset = gi * batched.tokensPerGroup;
        const count = Math.min(batched.tokensPerGroup, tokens.length - offset);
        const logits = decryptLogits(ctx, key, evaluateLinear(ctx, FED, group, prepared, keys), batched, count);
        logits.forEach((l, t) => {
          const want = plainLogits(head, tokens[offset + t] as Float32Array);
          worst = Math.max(worst, maxAbsDiff(l, want));
          if (argmax(l) !== argmax(want)) argmaxMismatches++;
        });
      });
    } finally {
      prepared.dispose();
    }
    expect(worst).toBeLessThan(1e-4);
    expect(argmaxMismatches).toBe(0);
  });

  it('batched with an encrypted head (ciphertext x ciphertext)', () => {
    const tokens = syntheticTokens(100, 768, 41);
    const prepared = PreparedHead.encrypted(ctx, FED, encryptHeadForInference(ctx, key, FED, head, batched), batched);
    try {
      const [group] = encryptInferenceInput(ctx, key, FED, tokens, batched);
      const logits = decryptLogits(ctx, key, evaluateLinear(ctx, FED, group!, prepared, keys), batched, 100);
      logits.forEach((l, t) => expect(maxAbsDiff(l, plainLogits(head, tokens[t] as Float32Array))).toBeLessThan(1e-4));
    } finally {
      prepared.dispose();
    }
  });

  it('names a missing rotation key and a missing relinearization key', () => {
    const only = generateInferenceKeys(ctx, key, FED, [batched], { relin: false });
    const batchedKeys = InferenceKeys.load(ctx, FED, only.galoisKeys);
    const prepared = PreparedHead.plain(ctx, head, single);
    const encryptedHead = PreparedHead.encrypted(ctx, FED, encryptHeadForInference(ctx, key, FED, head, batched), batched);
    try {
      const [group] = encryptInferenceInput(ctx, key, FED, syntheticTokens(1, 768, 1), single);
      expect(() => evaluateLinear(ctx, FED, group!, prepared, batchedKeys)).toThrow(/lack rotation step 4/);
      const [bgroup] = encryptInferenceInput(ctx, key, FED, syntheticTokens(1, 768, 1), batched);
      expect(() => evaluateLinear(ctx, FED, bgroup!, encryptedHead, batchedKeys)).toThrow(/relinearization keys/);
    } finally {
      encryptedHead.dispose();
      prepared.dispose();
      batchedKeys.dispose();
    }
  });
});
