// Slides as bags: a slide is the set of its tile tokens plus a slide label, and clinics hold slides. The synthetic
// bags model what makes slide labels hard: only a chosen fraction of a slide's tiles carry its class (tumour), the
// rest are shared background (stroma, blood, normal tissue) in a mix that differs per slide, and every slide has its
// own stain shift added to all its tiles. Averaging the tiles (mean-pool) therefore dilutes the class signal by the
// signal fraction and buries it under the shift; attention (abmil) can pick the signal tiles out.
import { TOKEN_LIMIT, localSplit, splitClinics, tokenSet } from './dataset.ts';
import type { SplitName, TokenSet } from './dataset.ts';
import { createRng, deriveSeed } from './random.ts';
import type { Rng } from './random.ts';

export interface SlideSet {
  dim: number;
  classes: number;
  count: number;
  /** Slide s: its tiles x dim, row-major. */
  bags: Float32Array[];
  labels: Int32Array;
}

export interface SlideClinicData {
  index: number;
  train: SlideSet;
  validation: SlideSet;
}

export interface SyntheticSlidesOptions {
  seed: number;
  trainPerClass: number;
  testPerClass: number;
  dim?: number;
  /** Share of a slide's tiles that carry its class (default 0.1); at least one tile always does. */
  signalFraction?: number;
  /** Tiles per slide, drawn uniformly in [min, max] (default [40, 120]). */
  tiles?: readonly [number, number];
  /** Distance of a class's signal tiles from the background centre (default 6, per-dimension noise 1). */
  separation?: number;
  /** Per-dimension standard deviation of a slide's stain shift (default 0.35). */
  slideShift?: number;
}

const BACKGROUND_TYPES = 4;

interface SlideGenerator {
  dim: number;
  signal: Float64Array[];
  background: Float64Array[];
  signalFraction: number;
  tiles: readonly [number, number];
  slideShift: number;
}

function direction(rng: Rng, dim: number, norm: number): Float64Array {
  const v = Float64Array.from({ length: dim }, () => rng.normal());
  const n = Math.hypot(...v);
  return v.map((x) => (norm * x) / n);
}

function drawSlide(g: SlideGenerator, rng: Rng, label: number): Float32Array {
  const [lo, hi] = g.tiles;
  const count = lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const signalTiles = Math.max(1, Math.round(g.signalFraction * count));
  const mix = Array.from({ length: BACKGROUND_TYPES }, () => rng.gamma(0.5));
  const total = mix.reduce((a, b) => a + b, 0);
  const shift = Float64Array.from({ length: g.dim }, () => g.slideShift * rng.normal());
  const out = new Float32Array(count * g.dim);
  for (let t = 0; t < count; t++) {
    let centre = g.signal[label] as Float64Array;
    if (t >= signalTiles) {
      let u = rng.uniform() * total;
      let k = 0;
      while (k < BACKGROUND_TYPES - 1 && u >= (mix[k] as number)) u -= mix[k++] as number;
      centre = g.background[k] as Float64Array;
    }
    for (let j = 0; j < g.dim; j++) {
      const v = (centre[j] as number) + (shift[j] as number) + rng.normal();
      out[t * g.dim + j] = Math.max(-TOKEN_LIMIT, Math.min(TOKEN_LIMIT, v));
    }
  }
  return out;
}

function drawSlides(g: SlideGenerator, rng: Rng, classes: number, perClass: number): SlideSet {
  const count = classes * perClass;
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  return { dim: g.dim, classes, count, bags: Array.from(labels, (label) => drawSlide(g, rng, label)), labels };
}

/** Balanced train and test slides from the same generator. */
export function syntheticSlides(opts: SyntheticSlidesOptions, classes = 3): { train: SlideSet; test: SlideSet } {
  const { seed, trainPerClass, testPerClass, dim = 384, signalFraction = 0.1, tiles = [40, 120], separation = 6, slideShift = 0.35 } = opts;
  if (!(signalFraction > 0 && signalFraction <= 1)) throw new Error(`synthetic slides: signalFraction ${signalFraction} must be in (0, 1]`);
  if (!(Number.isInteger(tiles[0]) && tiles[0] >= 1 && tiles[1] >= tiles[0])) throw new Error(`synthetic slides: tiles [${tiles.join(', ')}] must be 1 <= min <= max`);
  const rng = createRng(seed, 'slides/generator');
  const g: SlideGenerator = {
    dim,
    signal: Array.from({ length: classes }, () => direction(rng, dim, separation)),
    background: Array.from({ length: BACKGROUND_TYPES }, () => direction(rng, dim, separation)),
    signalFraction,
    tiles,
    slideShift,
  };
  return { train: drawSlides(g, createRng(seed, 'slides/train'), classes, trainPerClass), test: drawSlides(g, createRng(seed, 'slides/test'), classes, testPerClass) };
}

export function slideSubset(set: SlideSet, indices: readonly number[]): SlideSet {
  return { dim: set.dim, classes: set.classes, count: indices.length, bags: indices.map((i) => set.bags[i] as Float32Array), labels: Int32Array.from(indices, (i) => set.labels[i] as number) };
}

/**
 * The slides' own index as a one-wide token set with their labels: the tile splits (splitClinics, localSplit) then
 * partition slides exactly as they partition tokens, and the indices come back out of the "tokens".
 */
function indexTokens(set: SlideSet): TokenSet {
  return tokenSet(1, set.classes, Float32Array.from({ length: set.count }, (_, i) => i), set.labels);
}
const indicesOf = (part: TokenSet): number[] => Array.from(part.tokens);

/** The slides split over clinics (iid, label-skew, quantity-skew as for tiles), each with a local validation part. */
export function prepareSlideClinics(train: SlideSet, clinics: number, split: SplitName, seed: number, validationFraction: number): SlideClinicData[] {
  return splitClinics(indexTokens(train), clinics, split, seed, { minPerClinic: 10 }).map((part, index) => {
    const local = localSplit(part, validationFraction, deriveSeed(seed, `slide clinic ${index}`));
    return { index, train: slideSubset(train, indicesOf(local.train)), validation: slideSubset(train, indicesOf(local.validation)) };
  });
}

/** mean-pool: each slide becomes the mean of its tile tokens, a token set the tile strategies take unchanged. */
export function meanPoolSlides(set: SlideSet): TokenSet {
  const tokens = new Float32Array(set.count * set.dim);
  set.bags.forEach((bag, s) => {
    const n = bag.length / set.dim;
    for (let t = 0; t < n; t++) for (let j = 0; j < set.dim; j++) tokens[s * set.dim + j] = (tokens[s * set.dim + j] as number) + (bag[t * set.dim + j] as number) / n;
  });
  return tokenSet(set.dim, set.classes, tokens, set.labels);
}
