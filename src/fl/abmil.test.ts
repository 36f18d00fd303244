// ABMIL against PyTorch: forward (logits, attention, loss) and backward (the gradient of every parameter) on the
// fixture scripts/abmil-fixture.py wrote with torch in float64; tfjs computes in float32.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { abmilForward, abmilLossAndGradient, abmilParameterCount, abmilShape, initAbmil, trainAbmil } from './abmil.ts';
import type { AbmilShape, SlideBag } from './abmil.ts';
import { createRng } from './random.ts';

interface Fixture {
  shape: AbmilShape;
  tiles: number[];
  label: number;
  parameters: number[];
  logits: number[];
  attention: number[];
  loss: number;
  gradient: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/abmil-reference.json', import.meta.url), 'utf8')) as Fixture;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('gated-attention MIL (tfjs) against PyTorch', () => {
  beforeAll(async () => {
    await useNodeWasmBackend();
  });

  it('counts D*512 + 512 + 2(512*256 + 256) + 257 + 512*C + C parameters', () => {
    expect(abmilParameterCount(abmilShape(384, 3))).toBe(461_572);
    expect(abmilParameterCount(abmilShape(768, 3))).toBe(658_180);
    expect(abmilParameterCount(abmilShape(1536, 3))).toBe(1_051_396);
    expect(abmilParameterCount(fixture.shape)).toBe(fixture.parameters.length);
  });

  it('forward: logits, attention and loss match torch within 1e-5', () => {
    const tiles = Float32Array.from(fixture.tiles);
    const out = abmilForward(fixture.shape, fixture.parameters, tiles);
    expect(maxAbsDiff(out.logits, fixture.logits)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.attention, fixture.attention)).toBeLessThan(1e-5);
    expect(out.attention.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(abmilLossAndGradient(fixture.shape, fixture.parameters, tiles, fixture.label).loss).toBeCloseTo(fixture.loss, 5);
  });

  it('backward: the gradient of every parameter matches torch autograd within 1e-5', () => {
    const { gradient } = abmilLossAndGradient(fixture.shape, fixture.parameters, Float32Array.from(fixture.tiles), fixture.label);
    expect(maxAbsDiff(gradient, fixture.gradient)).toBeLessThan(1e-5);
    // Every block of parameters gets a gradient (a wiring mistake would leave one at zero).
    expect(Math.max(...fixture.gradient.map(Math.abs))).toBeGreaterThan(1e-2);
  });

  it('trains deterministically for a seed, leaks no tensor, and learns which tiles carry the class', () => {
    const shape: AbmilShape = { dim: 8, hidden: 16, attention: 8, classes: 2 };
    const rng = createRng(4, 'abmil test bags');
    // Class c: one tile at +-3 on feature 0 among 9 background tiles; a mean over tiles sees only a third of it.
    const bags: SlideBag[] = Array.from({ length: 40 }, (_, s) => {
      const tiles = Float32Array.from({ length: 10 * 8 }, () => rng.normal() * 0.5);
      tiles[0] = (tiles[0] as number) + (s % 2 === 0 ? 3 : -3);
      return { tiles, label: s % 2 };
    });
    const start = initAbmil(shape, 1);
    const before = tf.memory().numTensors;
    const opts = { epochs: 8, learningRate: 1e-2, weightDecay: 1e-5, dropout: 0.25, seed: 9 };
    const a = trainAbmil(shape, start, bags, opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(trainAbmil(shape, start, bags, opts))).toEqual(Array.from(a));
    expect(Array.from(trainAbmil(shape, start, bags, { ...opts, seed: 10 }))).not.toEqual(Array.from(a));
    const right = bags.filter((b) => {
      const out = abmilForward(shape, a, b.tiles);
      return (out.probabilities[1]! > 0.5 ? 1 : 0) === b.label;
    }).length;
    expect(right / bags.length).toBeGreaterThan(0.9);
    const attentionOnSignal = bags.map((b) => abmilForward(shape, a, b.tiles).attention[0] as number);
    expect(attentionOnSignal.reduce((x, y) => x + y, 0) / bags.length).toBeGreaterThan(0.1);
  });
});
