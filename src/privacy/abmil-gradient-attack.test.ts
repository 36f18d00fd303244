// The clear-update attack on ABMIL (abmil-gradient-attack.ts) on synthetic tokens shaped like a ViT's output: every
// token is γ·z + β with z standardised, as the encoder's final LayerNorm leaves it.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/mulberry32.ts';
import { abmilLossAndGradient, abmilShape, initAbmil, trainAbmil } from '../fl/abmil.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { recoverTokensFromAbmilGradient, relativeDistance, type FinalNorm } from './abmil-gradient-attack.ts';

const DIM = 48;
const shape = abmilShape(DIM, 3);
const model = initAbmil(shape, 5);

function finalNorm(seed: number): FinalNorm {
  const random = mulberry32(seed);
  return { gamma: Float32Array.from({ length: DIM }, () => 0.5 + random()), beta: Float32Array.from({ length: DIM }, () => random() - 0.5) };
}

function normedTokens(count: number, norm: FinalNorm, seed: number): Float32Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const raw = Array.from({ length: DIM }, () => random() - 0.5);
    const mean = raw.reduce((a, b) => a + b, 0) / DIM;
    const sd = Math.sqrt(raw.reduce((a, b) => a + (b - mean) ** 2, 0) / DIM);
    return Float32Array.from(raw, (v, d) => norm.gamma[d]! * ((v - mean) / sd) + norm.beta[d]!);
  });
}

const bagOf = (tokens: Float32Array[]) => {
  const flat = new Float32Array(tokens.length * DIM);
  tokens.forEach((t, i) => flat.set(t, i * DIM));
  return flat;
};
const closest = (token: Float32Array, truth: Float32Array[]) => Math.min(...truth.map((t) => relativeDistance(token, t)));

beforeAll(async () => {
  await useNodeWasmBackend();
  expect(tf.getBackend()).toBe('wasm');
});

describe('tile tokens from a clear ABMIL gradient', () => {
  const norm = finalNorm(11);

  it('gives back the token of a one-tile slide exactly', () => {
    const [token] = normedTokens(1, norm, 3);
    const { gradient } = abmilLossAndGradient(shape, model, bagOf([token!]), 1);
    const recovered = recoverTokensFromAbmilGradient(shape, gradient, norm);
    expect(recovered).toHaveLength(1);
    expect(relativeDistance(recovered[0]!.token, token!)).toBeLessThan(1e-5);
    expect(recovered[0]!.units.length).toBeGreaterThan(10);
  });

  it('recovers tiles of a slide, and everything it claims is a real tile', () => {
    const tokens = normedTokens(8, norm, 4);
    const { gradient } = abmilLossAndGradient(shape, model, bagOf(tokens), 2);
    const recovered = recoverTokensFromAbmilGradient(shape, gradient, norm);
    expect(recovered.length).toBeGreaterThanOrEqual(2);
    for (const r of recovered) expect(closest(r.token, tokens)).toBeLessThan(1e-4);
    // Without the LayerNorm test the attacker would also claim mixtures of several tiles.
    const unfiltered = recoverTokensFromAbmilGradient(shape, gradient, norm, { normTolerance: Infinity });
    expect(unfiltered.filter((r) => closest(r.token, tokens) > 1e-2).length).toBeGreaterThan(0);
  });

  it('refuses a norm of the wrong width', () => {
    const { gradient } = abmilLossAndGradient(shape, model, bagOf(normedTokens(1, norm, 5)), 0);
    expect(() => recoverTokensFromAbmilGradient(shape, gradient, { gamma: new Float32Array(3), beta: new Float32Array(3) })).toThrow('the final norm has 3 values, the tokens 48');
  });

  it('gets nothing from the model after a local Adam step (what the abmil strategy shares)', () => {
    const [token] = normedTokens(1, norm, 6);
    const trained = trainAbmil(shape, model, [{ tiles: bagOf([token!]), label: 1 }], { epochs: 1, learningRate: 1e-3, weightDecay: 0, dropout: 0, seed: 1 });
    const update = trained.map((v, i) => model[i]! - v);
    expect(recoverTokensFromAbmilGradient(shape, update, norm)).toHaveLength(0);
  });
});
