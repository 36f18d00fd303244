import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { subset, syntheticDataset } from './dataset.ts';
import { DEFAULT_LOCAL_TRAINING, accuracy, predictClasses, trainHead, zeroHead } from './head.ts';
import type { LinearHead } from '../he/head.ts';

const { train, test } = syntheticDataset({ seed: 5, trainPerClass: 120, testPerClass: 100 });

/** Plain float64 gradient of mean softmax cross-entropy + l2/2 |W|^2 at `head` (row-major like the head). */
function referenceGradient(head: LinearHead, set: typeof train, l2: number): { w: Float64Array; b: Float64Array } {
  const { classes, dim } = head;
  const w = new Float64Array(classes * dim);
  const b = new Float64Array(classes);
  for (let t = 0; t < set.count; t++) {
    const logits = Array.from({ length: classes }, (_, c) => {
      let s = head.biases[c] as number;
      for (let j = 0; j < dim; j++) s += (head.weights[c * dim + j] as number) * (set.tokens[t * dim + j] as number);
      return s;
    });
    const top = Math.max(...logits);
    const exps = logits.map((z) => Math.exp(z - top));
    const total = exps.reduce((a, e) => a + e, 0);
    for (let c = 0; c < classes; c++) {
      const r = ((exps[c] as number) / total - (set.labels[t] === c ? 1 : 0)) / set.count;
      b[c] = (b[c] as number) + r;
      for (let j = 0; j < dim; j++) w[c * dim + j] = (w[c * dim + j] as number) + r * (set.tokens[t * dim + j] as number);
    }
  }
  for (let k = 0; k < w.length; k++) w[k] = (w[k] as number) + l2 * (head.weights[k] as number);
  return { w, b };
}

describe('softmax-regression head (tfjs wasm)', () => {
  beforeAll(async () => {
    await useNodeWasmBackend();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('is deterministic for a seed, leaks no tensors and learns the task', async () => {
    const opts = { ...DEFAULT_LOCAL_TRAINING, seed: 11 };
    const before = tf.memory().numTensors;
    const a = await trainHead(zeroHead(3, 768), train, opts);
    const b = await trainHead(zeroHead(3, 768), train, opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.weights).toEqual(b.weights);
    expect(a.biases).toEqual(b.biases);
    const c = await trainHead(zeroHead(3, 768), train, { ...opts, seed: 12 });
    expect(c.weights).not.toEqual(a.weights);
    expect(accuracy(a, test)).toBeGreaterThan(0.9);
    expect(accuracy(a, test)).toBeLessThan(1);
  });

  it('takes an Adam step along the plain-TS gradient of cross-entropy + L2, from the given head', async () => {
    const start = await trainHead(zeroHead(3, 768), subset(train, [0, 1, 2, 3, 4, 5]), { ...DEFAULT_LOCAL_TRAINING, seed: 1 });
    const small = subset(train, Array.from({ length: 60 }, (_, i) => i));
    const l2 = 0.5;
    const lr = 1e-3;
    // One full batch, one epoch: Adam's first step is lr * g / (|g| + eps), i.e. lr * sign(g) where |g| >> eps.
    const next = await trainHead(start, small, { epochs: 1, batchSize: small.count, learningRate: lr, l2, seed: 1 });
    const g = referenceGradient(start, small, l2);
    let checked = 0;
    const check = (gk: number, before: number, after: number) => {
      if (Math.abs(gk) < 1e-3) return;
      checked++;
      expect(Math.sign(before - after)).toBe(Math.sign(gk));
      expect(Math.abs(before - after)).toBeCloseTo(lr, 5);
    };
    g.w.forEach((gk, k) => check(gk, start.weights[k] as number, next.weights[k] as number));
    g.b.forEach((gk, c) => check(gk, start.biases[c] as number, next.biases[c] as number));
    expect(checked).toBeGreaterThan(2000);
  });

  it('predicts the argmax of the logits', () => {
    const head: LinearHead = { classes: 3, dim: 2, weights: Float64Array.from([1, 0, 0, 1, -1, -1]), biases: Float64Array.from([0, 0, 0.5]) };
    const set = { dim: 2, classes: 3, count: 3, tokens: Float32Array.from([2, 1, 1, 2, -1, -1]), labels: Int32Array.from([0, 1, 2]) };
    expect(Array.from(predictClasses(head, set))).toEqual([0, 1, 2]);
    expect(accuracy(head, set)).toBe(1);
    expect(() => predictClasses({ ...head, dim: 3 }, set)).toThrow('needs 9 weights');
  });
});
