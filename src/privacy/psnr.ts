import { assertSameSize, type RgbImage } from './image.ts';

/**
 * Peak signal-to-noise ratio in dB over all pixels and channels, as scikit-image's peak_signal_noise_ratio:
 * 10·log10(dataRange² / MSE). Identical images give Infinity (MSE 0); see metricsJson for how that is serialised.
 */
export function psnr(a: RgbImage, b: RgbImage, dataRange = 255): number {
  assertSameSize(a, b);
  if (!(dataRange > 0)) throw new Error(`psnr: dataRange must be positive, got ${dataRange}`);
  let sumSquares = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    sumSquares += d * d;
  }
  const mse = sumSquares / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / mse);
}
