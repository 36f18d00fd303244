// Tissue detection the CLAM way, on a low-resolution view (downsample ~32-64): HSV saturation, median blur, Otsu
// threshold (or the user's), morphological closing, then small specks dropped and small holes filled. The user's
// include/exclude polygons (level-0 pixels) restrict or cut the result.
import type { Slide } from './slide.ts';

export interface Point {
  x: number;
  y: number;
}

export interface TissueOptions {
  /** wanted level-0 pixels per mask pixel; the mask is computed at the nearest level at or below it, then shrunk */
  downsample?: number;
  /** saturation threshold 0..255; default: Otsu's */
  threshold?: number;
  /** median blur size (odd) */
  medianSize?: number;
  /** closing radius in mask pixels */
  closeRadius?: number;
  /** pieces and holes smaller than this (level-0 pixels²) are removed / filled; default 256² */
  minArea0?: number;
  include?: Point[][];
  exclude?: Point[][];
}

export interface TissueMask {
  width: number;
  height: number;
  /** level-0 pixels per mask pixel along x and y */
  scaleX: number;
  scaleY: number;
  /** 1 = tissue */
  data: Uint8Array;
  threshold: number;
  tissueFraction: number;
}

/** Otsu's threshold of 8-bit values: the cut that maximises the between-class variance. */
export function otsuThreshold(values: Uint8Array): number {
  const histogram = new Float64Array(256);
  for (const v of values) histogram[v] = (histogram[v] ?? 0) + 1;
  const total = values.length;
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * (histogram[i] ?? 0);
  let below = 0;
  let sumBelow = 0;
  let best = 0;
  let bestVariance = -1;
  for (let t = 0; t < 256; t++) {
    below += histogram[t] ?? 0;
    if (below === 0 || below === total) continue;
    sumBelow += t * (histogram[t] ?? 0);
    const meanBelow = sumBelow / below;
    const meanAbove = (sumAll - sumBelow) / (total - below);
    const variance = below * (total - below) * (meanBelow - meanAbove) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = t;
    }
  }
  return best;
}

function medianBlur(src: Uint8Array, width: number, height: number, size: number): Uint8Array {
  const r = size >> 1;
  const out = new Uint8Array(src.length);
  const histogram = new Uint16Array(256);
  for (let y = 0; y < height; y++) {
    histogram.fill(0);
    let count = 0;
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height - 1, y + r);
    const addColumn = (x: number, sign: number): void => {
      if (x < 0 || x >= width) return;
      for (let yy = y0; yy <= y1; yy++) {
        const v = src[yy * width + x] ?? 0;
        histogram[v] = (histogram[v] ?? 0) + sign;
      }
      count += sign * (y1 - y0 + 1);
    };
    for (let x = -r; x < r; x++) addColumn(x, 1);
    for (let x = 0; x < width; x++) {
      addColumn(x + r, 1);
      addColumn(x - r - 1, -1);
      let seen = 0;
      let v = 0;
      while (v < 255 && (seen += histogram[v] ?? 0) <= count >> 1) v++;
      out[y * width + x] = v;
    }
  }
  return out;
}

function morph(src: Uint8Array, width: number, height: number, radius: number, dilate: boolean): Uint8Array<ArrayBuffer> {
  const pass = (input: Uint8Array, horizontal: boolean): Uint8Array<ArrayBuffer> => {
    const out = new Uint8Array(input.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = dilate ? 0 : 1;
        for (let d = -radius; d <= radius; d++) {
          const xx = horizontal ? x + d : x;
          const yy = horizontal ? y : y + d;
          const inside = xx >= 0 && yy >= 0 && xx < width && yy < height;
          const s = inside ? (input[yy * width + xx] ?? 0) : dilate ? 0 : 1;
          if (dilate ? s === 1 : s === 0) {
            v = dilate ? 1 : 0;
            break;
          }
        }
        out[y * width + x] = v;
      }
    }
    return out;
  };
  return pass(pass(src, true), false);
}

/** Sets to `fill` every 4-connected piece of value `value` smaller than `minPixels`. */
function removeSmall(mask: Uint8Array, width: number, value: number, minPixels: number): void {
  const seen = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  for (let start = 0; start < mask.length; start++) {
    if (seen[start] || mask[start] !== value) continue;
    const piece: number[] = [];
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top] ?? 0;
      piece.push(p);
      const x = p % width;
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]) {
        if (q >= 0 && q < mask.length && !seen[q] && mask[q] === value) {
          seen[q] = 1;
          stack[top++] = q;
        }
      }
    }
    if (piece.length < minPixels) for (const p of piece) mask[p] = 1 - value;
  }
}

export function pointInPolygon(x: number, y: number, polygon: Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i] as Point;
    const b = polygon[j] as Point;
    if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** The tissue mask of `slide`; reads one low level whole (a few megapixels at most). */
export async function detectTissue(slide: Slide, options: TissueOptions = {}): Promise<TissueMask> {
  const wanted = options.downsample ?? 32;
  const levelIndex = slide.levelForDownsample(wanted);
  const level = slide.info.levels[levelIndex];
  if (!level) throw new Error('slide has no levels');
  const shrink = Math.max(1, Math.floor(wanted / level.downsample));
  const region = await slide.readRegion(levelIndex, 0, 0, level.width, level.height);
  const width = Math.ceil(level.width / shrink);
  const height = Math.ceil(level.height / shrink);
  const saturation = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let n = 0;
      for (let yy = y * shrink; yy < Math.min(level.height, (y + 1) * shrink); yy++) {
        for (let xx = x * shrink; xx < Math.min(level.width, (x + 1) * shrink); xx++) {
          const o = (yy * level.width + xx) * 4;
          const r = region.rgba[o] ?? 0;
          const g = region.rgba[o + 1] ?? 0;
          const b = region.rgba[o + 2] ?? 0;
          const max = Math.max(r, g, b);
          sum += max === 0 ? 0 : ((max - Math.min(r, g, b)) * 255) / max;
          n++;
        }
      }
      saturation[y * width + x] = Math.round(sum / Math.max(1, n));
    }
  }
  const blurred = medianBlur(saturation, width, height, options.medianSize ?? 7);
  const threshold = options.threshold ?? otsuThreshold(blurred);
  let mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = (blurred[i] ?? 0) > threshold ? 1 : 0;
  const radius = options.closeRadius ?? 2;
  mask = morph(morph(mask, width, height, radius, true), width, height, radius, false);
  const scaleX = slide.info.width / width;
  const scaleY = slide.info.height / height;
  const minPixels = (options.minArea0 ?? 256 * 256) / (scaleX * scaleY);
  removeSmall(mask, width, 1, minPixels);
  removeSmall(mask, width, 0, minPixels);
  const include = options.include ?? [];
  const exclude = options.exclude ?? [];
  if (include.length || exclude.length) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const px = (x + 0.5) * scaleX;
        const py = (y + 0.5) * scaleY;
        if (include.length && !include.some((p) => pointInPolygon(px, py, p))) mask[y * width + x] = 0;
        if (exclude.some((p) => pointInPolygon(px, py, p))) mask[y * width + x] = 0;
      }
    }
  }
  let tissue = 0;
  for (const v of mask) tissue += v;
  return { width, height, scaleX, scaleY, data: mask, threshold, tissueFraction: tissue / mask.length };
}
