// Noise flooding: the published values differ from the decrypted ones by Gaussian noise of the stated σ, sit on the
// stated precision grid, and a flooded head classifies exactly as the decrypted one does.
import { describe, expect, it } from 'vitest';
import { FLOODED_PRECISION, FLOODING_SIGMA, floodNoise } from './noise-flooding.ts';
import { plainLogits, syntheticHead, syntheticTokens } from './testing.ts';

describe('floodNoise', () => {
  it('adds noise of the stated sigma and rounds to the stated precision', () => {
    const values = Float64Array.from({ length: 20_000 }, (_, k) => Math.sin(k) * 0.3);
    const out = floodNoise(values);
    const diff = Array.from(out, (v, k) => v - (values[k] as number));
    const mean = diff.reduce((a, b) => a + b, 0) / diff.length;
    const sd = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / diff.length);
    expect(Math.abs(mean)).toBeLessThan(FLOODING_SIGMA * 0.05);
    expect(sd / FLOODING_SIGMA).toBeGreaterThan(0.95);
    expect(sd / FLOODING_SIGMA).toBeLessThan(1.05);
    expect(diff.filter((d) => d === 0).length).toBeLessThan(diff.length * 0.1);
    for (const v of out.subarray(0, 500)) expect(Math.abs(v / FLOODED_PRECISION - Math.round(v / FLOODED_PRECISION))).toBeLessThan(1e-6);
  });

  it('is reproducible only with its seed, fresh otherwise', () => {
    const values = new Float64Array(600).fill(0.25);
    const seed = new Uint8Array(32).fill(7);
    expect(floodNoise(values, { seed })).toEqual(floodNoise(values, { seed }));
    expect(floodNoise(values)).not.toEqual(floodNoise(values));
  });

  it('leaves the accuracy of a published head unchanged', () => {
    const head = syntheticHead(3, 768, 11);
    const flooded = { ...head, weights: floodNoise(head.weights), biases: floodNoise(head.biases) };
    const tokens = syntheticTokens(2_000, 768, 12);
    let agree = 0;
    let maxLogit = 0;
    for (const token of tokens) {
      const a = plainLogits(head, token);
      const b = plainLogits(flooded, token);
      if (a.indexOf(Math.max(...a)) === b.indexOf(Math.max(...b))) agree++;
      a.forEach((l, c) => (maxLogit = Math.max(maxLogit, Math.abs(l - (b[c] as number)))));
    }
    expect(agree / tokens.length).toBeGreaterThanOrEqual(0.999);
    expect(maxLogit).toBeLessThan(5e-3);
    expect(maxLogit).toBeGreaterThan(0);
  });
});
