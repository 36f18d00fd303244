// Image preprocessing as HF's ViTImageProcessor / BitImageProcessor do it: drop alpha, resize with
// PIL's BILINEAR or BICUBIC filter (square, or shortest edge then centre crop), rescale by
// rescale_factor (1/255), normalise with image_mean/image_std, lay out as CHW. The resize
// reproduces Pillow's Resample.c bit for bit (the filter widened by the scale factor when
// shrinking, i.e. antialiased; fixed-point 8-bit arithmetic; horizontal
// pass first, rounded to uint8 between passes), because a plain 4-tap bilinear differs from what
// the model saw in training by whole grey levels on downscaled tiles.

import type { ImageProcessorConfig, Resample } from './config.ts';

const PRECISION_BITS = 32 - 8 - 2;

interface ResampleCoefficients {
  /** Per output pixel: first input index and number of taps. */
  bounds: Int32Array;
  /** outSize x kernelSize fixed-point weights. */
  weights: Int32Array;
  kernelSize: number;
}

type Filter = { support: number; weight: (x: number) => number };

const FILTERS: Record<Resample, Filter> = {
  bilinear: { support: 1, weight: (x) => (x < 1 ? 1 - x : 0) },
  // Pillow's bicubic_filter (a = -0.5).
  bicubic: {
    support: 2,
    weight: (x) => (x < 1 ? ((1.5 * x - 2.5) * x) * x + 1 : x < 2 ? (((x - 5) * x + 8) * x - 4) * -0.5 : 0),
  },
};

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for `filter`. */
function filterCoefficients(inSize: number, outSize: number, filter: Filter): ResampleCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale; // widened when downscaling (antialiasing)
  const inverseFilterScale = 1 / filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * kernelSize);
  const taps = new Float64Array(kernelSize);
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - first;
    let total = 0;
    for (let x = 0; x < count; x++) {
      taps[x] = filter.weight(Math.abs((x + first - center + 0.5) * inverseFilterScale));
      total += taps[x] as number;
    }
    for (let x = 0; x < count; x++) {
      const w = total !== 0 ? (taps[x] as number) / total : (taps[x] as number);
      weights[out * kernelSize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[out * 2] = first;
    bounds[out * 2 + 1] = count;
  }
  return { bounds, weights, kernelSize };
}

function clip8(accumulator: number): number {
  if (accumulator >= 1 << PRECISION_BITS << 8) return 255;
  if (accumulator <= 0) return 0;
  return accumulator >> PRECISION_BITS;
}

/**
 * One resampling pass over interleaved RGB uint8 rows. `horizontal` resamples along x; otherwise
 * along y. Accumulation stays below 2^31 because weights sum to 2^22 and pixels are <= 255.
 */
function resamplePass(
  src: Uint8Array,
  srcWidth: number,
  srcHeight: number,
  outSize: number,
  horizontal: boolean,
  filter: Filter,
): Uint8Array {
  const inSize = horizontal ? srcWidth : srcHeight;
  const { bounds, weights, kernelSize } = filterCoefficients(inSize, outSize, filter);
  const outWidth = horizontal ? outSize : srcWidth;
  const outHeight = horizontal ? srcHeight : outSize;
  const out = new Uint8Array(outWidth * outHeight * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const o = horizontal ? x : y;
      const first = bounds[o * 2] as number;
      const count = bounds[o * 2 + 1] as number;
      let r = half;
      let g = half;
      let b = half;
      for (let t = 0; t < count; t++) {
        const w = weights[o * kernelSize + t] as number;
        const i = horizontal ? (y * srcWidth + first + t) * 3 : ((first + t) * srcWidth + x) * 3;
        r += (src[i] as number) * w;
        g += (src[i + 1] as number) * w;
        b += (src[i + 2] as number) * w;
      }
      const j = (y * outWidth + x) * 3;
      out[j] = clip8(r);
      out[j + 1] = clip8(g);
      out[j + 2] = clip8(b);
    }
  }
  return out;
}

function checkRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`preprocess: image size must be positive integers, got ${width} x ${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new Error(`preprocess: RGBA buffer has ${rgba.length} bytes, expected ${width} x ${height} x 4 = ${width * height * 4}`);
  }
}

/**
 * Pillow `Image.convert('RGB').resize((outWidth, outHeight), filter)` of an RGBA image; returns
 * RGB uint8 (horizontal pass first, as Pillow does).
 */
export function resizeLikePillow(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  resample: Resample = 'bilinear',
): Uint8Array {
  checkRgba(rgba, width, height);
  let rgb: Uint8Array = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i] as number;
    rgb[j + 1] = rgba[i + 1] as number;
    rgb[j + 2] = rgba[i + 2] as number;
  }
  if (width !== outWidth) rgb = resamplePass(rgb, width, height, outWidth, true, FILTERS[resample]);
  if (height !== outHeight) rgb = resamplePass(rgb, outWidth, height, outHeight, false, FILTERS[resample]);
  return rgb;
}

/**
 * The RGB uint8 size x size input as HF's image processors make it: a square resize, or (shortest_edge)
 * the shorter side resized to shortest_edge (the longer to floor(shortest_edge x long / short)), then
 * the centre crop, its corner at floor((resized - size) / 2) as HF's center_crop puts it.
 */
export function resizeAndCrop(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, proc: ImageProcessorConfig): Uint8Array {
  const { size, shortest_edge: edge, resample } = proc;
  if (edge === undefined) return resizeLikePillow(rgba, width, height, size, size, resample);
  const short = Math.min(width, height);
  const outWidth = width === short ? edge : Math.trunc((edge * width) / short);
  const outHeight = height === short ? edge : Math.trunc((edge * height) / short);
  const resized = resizeLikePillow(rgba, width, height, outWidth, outHeight, resample);
  if (outWidth === size && outHeight === size) return resized;
  const top = Math.floor((outHeight - size) / 2);
  const left = Math.floor((outWidth - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const row = ((top + y) * outWidth + left) * 3;
    out.set(resized.subarray(row, row + size * 3), y * size * 3);
  }
  return out;
}

/** RGBA pixels (any size) -> the model's input: 3 x size x size float32, normalised, CHW. */
export function preprocessRgba(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  proc: ImageProcessorConfig,
): Float32Array {
  const { size, rescale_factor: rescale, image_mean: mean, image_std: std } = proc;
  const rgb = resizeAndCrop(rgba, width, height, proc);
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const m = mean[c] as number;
    const s = std[c] as number;
    for (let i = 0; i < plane; i++) out[c * plane + i] = ((rgb[i * 3 + c] as number) * rescale - m) / s;
  }
  return out;
}
