// Deterministic synthetic data shared by the HE tests and bench/he.ts: ViT-CLS-like tokens (N(0,1), every 97th
// dimension x8, as in research/node-seal.md §4) and heads with N(0, 0.05) weights.
import type { LinearHead } from './head.ts';

export function seededRandom(seed: number): { uniform: () => number; normal: () => number } {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

export function syntheticTokens(count: number, dim: number, seed: number): Float32Array[] {
  const { normal } = seededRandom(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: dim }, (_, i) => normal() * (i % 97 === 0 ? 8 : 1)));
}

export function syntheticHead(classes: number, dim: number, seed: number): LinearHead {
  const { normal } = seededRandom(seed);
  return {
    classes,
    dim,
    weights: Float64Array.from({ length: classes * dim }, () => normal() * 0.05),
    biases: Float64Array.from({ length: classes }, () => normal() * 0.1),
  };
}

/** Plaintext reference logits in float64. */
export function plainLogits(head: LinearHead, token: ArrayLike<number>): Float64Array {
  const out = new Float64Array(head.classes);
  for (let c = 0; c < head.classes; c++) {
    let s = head.biases[c] as number;
    for (let j = 0; j < head.dim; j++) s += (head.weights[c * head.dim + j] as number) * (token[j] as number);
    out[c] = s;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
