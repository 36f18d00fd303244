// The three reconstruction metrics together, and their JSON form. Browser-safe.
import type { RgbImage } from './image.ts';
import { nmi } from './nmi.ts';
import { psnr } from './psnr.ts';
import { ssim } from './ssim.ts';

export interface ImageMetrics {
  /** dB; Infinity when the images are identical. */
  psnr: number;
  ssim: number;
  nmi: number;
}

/** PSNR, SSIM and NMI of a reconstruction against its original, with the settings (data range 255). */
export function imageMetrics(original: RgbImage, reconstruction: RgbImage): ImageMetrics {
  return { psnr: psnr(original, reconstruction), ssim: ssim(original, reconstruction), nmi: nmi(original, reconstruction) };
}

/** A metric value in JSON: JSON has no Infinity (JSON.stringify would write null), so ±Infinity becomes a string. */
export type JsonMetric = number | 'Infinity' | '-Infinity';

export function metricToJson(value: number): JsonMetric {
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (Number.isNaN(value)) throw new Error('metric value is NaN, which has no JSON form');
  return value;
}

export function metricFromJson(value: JsonMetric): number {
  return typeof value === 'number' ? value : Number(value);
}

/** One-line JSON, e.g. {"psnr":"Infinity","ssim":1,"nmi":1} for identical images. */
export function metricsToJson(metrics: ImageMetrics): string {
  return JSON.stringify({ psnr: metricToJson(metrics.psnr), ssim: metricToJson(metrics.ssim), nmi: metricToJson(metrics.nmi) });
}
