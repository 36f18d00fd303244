import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLpipsNet, lpips, type LpipsTensor, type LpipsWeights } from './lpips.ts';
import { readPng } from './png.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

// Random weights for a few-channel AlexNet-LPIPS and float64 PyTorch distances, from scripts/privacy-reference.py.
const tiny = JSON.parse(readFileSync(join(FIXTURES, 'lpips-tiny.json'), 'utf8')) as {
  weights: Record<string, { shape: number[]; data: number[] }>;
  distances: Record<string, number>;
};
const tinyWeights: LpipsWeights = new Map(
  Object.entries(tiny.weights).map(([name, w]): [string, LpipsTensor] => [name, { shape: w.shape, data: Float32Array.from(w.data) }]),
);
const pair = (name: string) => [readPng(join(FIXTURES, `${name}-a.png`)), readPng(join(FIXTURES, `${name}-b.png`))] as const;

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('lpips', () => {
  it('is reported unavailable, with the reason, when no weights are supplied', async () => {
    const [a, b] = pair('blur');
    const result = await lpips(a, b);
    expect(result.available).toBe(false);
    expect(result.available === false && result.reason).toContain('none were supplied');
  });

  it('matches a float64 PyTorch forward pass of the same (tiny, random) network', async () => {
    const before = tf.memory().numTensors;
    const net = createLpipsNet(tinyWeights);
    for (const [name, reference] of Object.entries(tiny.distances)) {
      const [a, b] = pair(name);
      const value = await net.distance(a, b);
      expect(Math.abs(value - reference), name).toBeLessThan(1e-6 + 1e-4 * reference);
    }
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('accepts the full LPIPS state-dict names (net.sliceN.*) for the backbone', async () => {
    const renamed = new Map([...tinyWeights].map(([name, w]) => [name.replace(/^features\.(\d+)/, (_, i: string) => `net.slice${{ 0: 1, 3: 2, 6: 3, 8: 4, 10: 5 }[i]}.${i}`), w]));
    const [a, b] = pair('shift');
    const result = await lpips(a, b, renamed);
    expect(result.available && result.value).toBeCloseTo(tiny.distances.shift!, 5);
  });

  it('rejects malformed weights and too-small images precisely', async () => {
    const missing = new Map(tinyWeights);
    missing.delete('lin2.model.1.weight');
    expect(() => createLpipsNet(missing)).toThrow('LPIPS weights lack lin2.model.1.weight');
    const wrong = new Map(tinyWeights);
    wrong.set('features.3.weight', { shape: [6, 5, 5, 5], data: new Float32Array(750) });
    expect(() => createLpipsNet(wrong)).toThrow('LPIPS weight features.3.weight: expected shape [out, 4, kh, kw], got [6, 5, 5, 5]');
    const small = { width: 16, height: 16, channels: 3 as const, data: new Uint8Array(16 * 16 * 3) };
    await expect(lpips(small, small, tinyWeights)).rejects.toThrow('16x16 images are too small for AlexNet');
  });
});
