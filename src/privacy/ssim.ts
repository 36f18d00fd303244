import { assertSameSize, type RgbImage } from './image.ts';

export interface SsimOptions {
  /** Standard deviation of the Gaussian window (default 1.5, as Wang et al. 2004). */
  sigma?: number;
  /** Dynamic range of the pixel values (default 255). */
  dataRange?: number;
  k1?: number;
  k2?: number;
}

// scikit-image fixes the Gaussian truncation at 3.5 sigma when gaussian_weights=True: an 11-tap window at sigma 1.5.
const TRUNCATE = 3.5;

/**
 * Mean structural similarity, matching scikit-image's structural_similarity(channel_axis=-1, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=255): local statistics from a Gaussian filter with 'reflect'
 * borders, the SSIM map cropped by the window radius on every side, averaged per channel, then over channels.
 */
export function ssim(a: RgbImage, b: RgbImage, opts: SsimOptions = {}): number {
  assertSameSize(a, b);
  const { sigma = 1.5, dataRange = 255, k1 = 0.01, k2 = 0.03 } = opts;
  if (!(sigma > 0)) throw new Error(`ssim: sigma must be positive, got ${sigma}`);
  const kernel = gaussianKernel(sigma, TRUNCATE);
  const winSize = kernel.length;
  if (a.width < winSize || a.height < winSize) {
    throw new Error(`ssim: images are ${a.width}x${a.height}, smaller than the ${winSize}x${winSize} Gaussian window`);
  }
  const c1 = (k1 * dataRange) ** 2;
  const c2 = (k2 * dataRange) ** 2;
  const { width, height } = a;
  const n = width * height;
  const pad = (winSize - 1) / 2;
  let channelSum = 0;
  for (let c = 0; c < 3; c++) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      x[p] = a.data[3 * p + c]!;
      y[p] = b.data[3 * p + c]!;
    }
    const blur = (plane: Float64Array) => gaussianFilterReflect(plane, width, height, kernel);
    const product = (u: Float64Array, v: Float64Array) => u.map((value, i) => value * v[i]!);
    const ux = blur(x);
    const uy = blur(y);
    const uxx = blur(product(x, x));
    const uyy = blur(product(y, y));
    const uxy = blur(product(x, y));
    let mapSum = 0;
    for (let row = pad; row < height - pad; row++) {
      for (let col = pad; col < width - pad; col++) {
        const i = row * width + col;
        const mx = ux[i]!;
        const my = uy[i]!;
        const vx = uxx[i]! - mx * mx;
        const vy = uyy[i]! - my * my;
        const vxy = uxy[i]! - mx * my;
        mapSum += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      }
    }
    channelSum += mapSum / ((height - 2 * pad) * (width - 2 * pad));
  }
  return channelSum / 3;
}

/** scipy.ndimage's normalised 1-D Gaussian: radius int(truncate·sigma + 0.5). */
function gaussianKernel(sigma: number, truncate: number): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const w = Math.exp((-0.5 / (sigma * sigma)) * k * k);
    kernel[k + radius] = w;
    sum += w;
  }
  return kernel.map((w) => w / sum);
}

/** scipy 'reflect' (half-sample symmetric, d c b a | a b c d | d c b a) index for any offset, even far outside. */
function reflectIndex(i: number, size: number): number {
  const period = 2 * size;
  const m = ((i % period) + period) % period;
  return m < size ? m : period - 1 - m;
}

/** Separable Gaussian filter, rows axis first then columns, as scipy.ndimage.gaussian_filter on a 2-D array. */
function gaussianFilterReflect(plane: Float64Array, width: number, height: number, kernel: Float64Array): Float64Array {
  const radius = (kernel.length - 1) / 2;
  const vertical = new Float64Array(plane.length);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius]! * plane[reflectIndex(row + k, height) * width + col]!;
      vertical[row * width + col] = acc;
    }
  }
  const out = new Float64Array(plane.length);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius]! * vertical[row * width + reflectIndex(col + k, width)]!;
      out[row * width + col] = acc;
    }
  }
  return out;
}
