// Seeded randomness for the FL simulation: every draw (dataset, splits, local shuffles) comes from mulberry32 streams,
// so a seed fixes a whole run. Sub-streams are derived from (seed, label) so adding a draw in one place does not
// shift the draws of another.
import { mulberry32 } from '../common/mulberry32.ts';

export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Gamma(shape, 1) (Marsaglia-Tsang; shape < 1 by the boost shape + 1 then U^(1/shape)). */
  gamma(shape: number): number;
  /** A new array with `items` in a random order (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[];
}

/** 32-bit FNV-1a of a label, mixed with the seed: independent streams per purpose. */
export function deriveSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function createRng(seed: number, label = ''): Rng {
  const next = mulberry32(deriveSeed(seed, label));
  // mulberry32 can return exactly 0; Box-Muller and Gamma need (0, 1).
  const open = (): number => {
    let u = next();
    while (u === 0) u = next();
    return u;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(open())) * Math.cos(2 * Math.PI * next());
  const gamma = (shape: number): number => {
    if (!(shape > 0)) throw new Error(`gamma shape ${shape} must be > 0`);
    if (shape < 1) return gamma(shape + 1) * open() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = open();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  return {
    uniform: next,
    normal,
    gamma,
    shuffled<T>(items: readonly T[]): T[] {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    },
  };
}
