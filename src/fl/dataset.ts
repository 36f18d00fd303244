// A deterministic synthetic stand-in for the [CLS] tokens of three-class lung histopathology tiles (LC25000's
// lung classes), and its partition over clinics. Tokens are class-conditional Gaussians shaped like ViT-B [CLS]
// tokens after the final LayerNorm: per-dimension offsets and scales, a few outlier dimensions (x3), a shared
// low-rank nuisance component (think stain and scanner variation, which correlates features across classes) and
// class means that differ by less than the noise, so a linear head reaches high but not perfect accuracy and a
// nearest-class-mean classifier, which ignores the correlations, does a little worse. Every value is clipped to
// |v| <= TOKEN_LIMIT so the CKKS headroom bounds (src/he/aggregate.ts) hold by construction.
// Class k stands for CLASS_LABELS[k] (src/protocol/vocabulary.ts), the order the app uses.
import { CLASS_LABELS } from '../protocol/vocabulary.ts';
import { createRng } from './random.ts';
import type { Rng } from './random.ts';

/**
 * Largest |value| of a synthetic token (real ViT-B [CLS] tokens stay within about +-10 after LayerNorm), and so the
 * strategies' default public bound; live rounds on real tokens use their own, wider LIVE_ROUND_LIMITS.tokenLimit (live-round.ts).
 */
export const TOKEN_LIMIT = 10;

/** Tokens (row-major, count x dim) with their labels. */
export interface TokenSet {
  dim: number;
  classes: number;
  count: number;
  tokens: Float32Array;
  labels: Int32Array;
}

export interface SyntheticDatasetOptions {
  seed: number;
  trainPerClass: number;
  testPerClass: number;
  dim?: number;
  /** Distance between class means, in units of the typical per-dimension noise (default 5). */
  separation?: number;
}

export type SplitName = 'iid' | 'label-skew' | 'quantity-skew';
export const SPLIT_NAMES: readonly SplitName[] = ['iid', 'label-skew', 'quantity-skew'];

/** Nuisance factors shared by all classes (rank of the correlated noise). */
const NUISANCE_RANK = 8;
const OUTLIER_EVERY = 97;

export function tokenSet(dim: number, classes: number, tokens: Float32Array, labels: Int32Array): TokenSet {
  if (tokens.length !== labels.length * dim) {
    throw new Error(`token set: ${tokens.length} values do not hold ${labels.length} tokens of dim ${dim}`);
  }
  for (const label of labels) {
    if (!(label >= 0 && label < classes)) throw new Error(`token set: label ${label} is not a class in 0..${classes - 1}`);
  }
  return { dim, classes, count: labels.length, tokens, labels };
}

/** The tokens at `indices`, in that order. */
export function subset(set: TokenSet, indices: readonly number[]): TokenSet {
  const tokens = new Float32Array(indices.length * set.dim);
  const labels = new Int32Array(indices.length);
  indices.forEach((src, i) => {
    tokens.set(set.tokens.subarray(src * set.dim, (src + 1) * set.dim), i * set.dim);
    labels[i] = set.labels[src] as number;
  });
  return { dim: set.dim, classes: set.classes, count: indices.length, tokens, labels };
}

export function classCounts(set: TokenSet): number[] {
  const counts = new Array<number>(set.classes).fill(0);
  for (const label of set.labels) counts[label] = (counts[label] as number) + 1;
  return counts;
}

interface Generator {
  dim: number;
  means: Float64Array[];
  scales: Float64Array;
  /** dim x NUISANCE_RANK, row-major. */
  loadings: Float64Array;
}

function generator(rng: Rng, dim: number, classes: number, separation: number): Generator {
  const offset = Float64Array.from({ length: dim }, () => 0.5 * rng.normal());
  const scales = Float64Array.from({ length: dim }, (_, j) => Math.exp(0.25 * rng.normal()) * (j % OUTLIER_EVERY === 0 ? 3 : 1));
  const loadings = Float64Array.from({ length: dim * NUISANCE_RANK }, () => 0.2 * rng.normal());
  // Class directions: random, so each pair of means is ~separation apart (each direction has norm separation/sqrt 2).
  const means = Array.from({ length: classes }, () => {
    const direction = Float64Array.from({ length: dim }, () => rng.normal());
    const norm = Math.hypot(...direction);
    return offset.map((o, j) => o + ((separation / Math.SQRT2) * (direction[j] as number)) / norm);
  });
  return { dim, means, scales, loadings };
}

function draw(g: Generator, rng: Rng, label: number, out: Float32Array): void {
  const factors = Array.from({ length: NUISANCE_RANK }, () => rng.normal());
  const mean = g.means[label] as Float64Array;
  for (let j = 0; j < g.dim; j++) {
    let v = (mean[j] as number) + (g.scales[j] as number) * rng.normal();
    for (let f = 0; f < NUISANCE_RANK; f++) v += (g.loadings[j * NUISANCE_RANK + f] as number) * (factors[f] as number);
    out[j] = Math.max(-TOKEN_LIMIT, Math.min(TOKEN_LIMIT, v));
  }
}

function drawSet(g: Generator, rng: Rng, classes: number, perClass: number): TokenSet {
  const count = classes * perClass;
  const tokens = new Float32Array(count * g.dim);
  const labels = new Int32Array(count);
  // Interleaved labels (0,1,2,0,1,2,...) so any prefix is balanced.
  for (let i = 0; i < count; i++) {
    labels[i] = i % classes;
    draw(g, rng, i % classes, tokens.subarray(i * g.dim, (i + 1) * g.dim));
  }
  return { dim: g.dim, classes, count, tokens, labels };
}

/** Balanced train and test sets drawn from the same class-conditional distributions. */
export function syntheticDataset(opts: SyntheticDatasetOptions): { train: TokenSet; test: TokenSet } {
  const { seed, trainPerClass, testPerClass, dim = 768, separation = 5 } = opts;
  for (const [name, v] of [['trainPerClass', trainPerClass], ['testPerClass', testPerClass], ['dim', dim]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`synthetic dataset: ${name} ${v} must be a positive integer`);
  }
  if (!(separation > 0)) throw new Error(`synthetic dataset: separation ${separation} must be > 0`);
  const classes = CLASS_LABELS.length;
  const g = generator(createRng(seed, 'dataset/generator'), dim, classes, separation);
  return {
    train: drawSet(g, createRng(seed, 'dataset/train'), classes, trainPerClass),
    test: drawSet(g, createRng(seed, 'dataset/test'), classes, testPerClass),
  };
}

/** Dirichlet(alpha, ..., alpha) over `k` parts. */
function dirichlet(rng: Rng, alpha: number, k: number): number[] {
  const g = Array.from({ length: k }, () => rng.gamma(alpha));
  const sum = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / sum);
}

/** Splits `n` items into parts proportional to `shares` (largest remainder), so the sizes sum to n exactly. */
function apportion(n: number, shares: readonly number[]): number[] {
  const exact = shares.map((s) => s * n);
  const sizes = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let r = n - sizes.reduce((a, b) => a + b, 0), i = 0; r > 0; r--, i++) {
    const at = (order[i % order.length] as readonly [number, number])[1];
    sizes[at] = (sizes[at] as number) + 1;
  }
  return sizes;
}

export interface SplitOptions {
  /** Dirichlet concentration: per class over clinics for label-skew (default 0.5), over clinics for quantity-skew (default 1). */
  alpha?: number;
  /** Every clinic gets at least this many tokens; skewed draws are repeated until it holds (default 20). */
  minPerClinic?: number;
}

const MAX_DRAWS = 1000;

/**
 * Partitions `set` over `clinics`:
 * - `iid`: a random permutation dealt into equal parts;
 * - `label-skew`: for each class, Dirichlet(alpha) shares of that class's tokens per clinic (Hsu et al. 2019);
 * - `quantity-skew`: Dirichlet(alpha) clinic sizes, each a uniform sample of the data (labels stay balanced).
 */
export function splitClinics(set: TokenSet, clinics: number, split: SplitName, seed: number, opts: SplitOptions = {}): TokenSet[] {
  if (!Number.isInteger(clinics) || clinics < 1) throw new Error(`split: clinics ${clinics} must be a positive integer`);
  const minPerClinic = opts.minPerClinic ?? 20;
  if (clinics * minPerClinic > set.count) {
    throw new Error(`split: ${set.count} tokens cannot give ${clinics} clinics ${minPerClinic} tokens each`);
  }
  const rng = createRng(seed, `split/${split}`);
  const all = rng.shuffled(Array.from({ length: set.count }, (_, i) => i));
  const deal = (sizes: readonly number[], pool: readonly number[]): number[][] => {
    let at = 0;
    return sizes.map((n) => pool.slice(at, (at += n)));
  };
  let parts: number[][];
  switch (split) {
    case 'iid':
      parts = deal(apportion(set.count, new Array<number>(clinics).fill(1 / clinics)), all);
      break;
    case 'label-skew': {
      const alpha = opts.alpha ?? 0.5;
      const byClass = Array.from({ length: set.classes }, (_, c) => all.filter((i) => set.labels[i] === c));
      for (let attempt = 0; ; attempt++) {
        if (attempt === MAX_DRAWS) throw new Error(`split: no label-skew draw (alpha ${alpha}) gave every clinic ${minPerClinic} tokens`);
        parts = Array.from({ length: clinics }, () => [] as number[]);
        for (const pool of byClass) {
          deal(apportion(pool.length, dirichlet(rng, alpha, clinics)), pool).forEach((p, k) => (parts[k] as number[]).push(...p));
        }
        if (parts.every((p) => p.length >= minPerClinic)) break;
      }
      break;
    }
    case 'quantity-skew': {
      const alpha = opts.alpha ?? 1;
      for (let attempt = 0; ; attempt++) {
        if (attempt === MAX_DRAWS) throw new Error(`split: no quantity-skew draw (alpha ${alpha}) gave every clinic ${minPerClinic} tokens`);
        const sizes = apportion(set.count, dirichlet(rng, alpha, clinics));
        if (sizes.every((n) => n >= minPerClinic)) {
          parts = deal(sizes, all);
          break;
        }
      }
      break;
    }
    default:
      throw new Error(`split: unknown split '${String(split)}'; known: ${SPLIT_NAMES.join(', ')}`);
  }
  return parts.map((p) => subset(set, p.sort((a, b) => a - b)));
}

/** A clinic's local train/validation split (seeded; at least one token on each side). */
export function localSplit(set: TokenSet, validationFraction: number, seed: number): { train: TokenSet; validation: TokenSet } {
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new Error(`local split: validation fraction ${validationFraction} must be in (0, 1)`);
  }
  if (set.count < 2) throw new Error(`local split: ${set.count} token(s) cannot be split into train and validation`);
  const order = createRng(seed, 'local-split').shuffled(Array.from({ length: set.count }, (_, i) => i));
  const nValidation = Math.min(set.count - 1, Math.max(1, Math.round(set.count * validationFraction)));
  const byIndex = (a: number, b: number) => a - b;
  return {
    validation: subset(set, order.slice(0, nValidation).sort(byIndex)),
    train: subset(set, order.slice(nValidation).sort(byIndex)),
  };
}
