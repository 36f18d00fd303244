// Images per forward pass when the caller does not say, per tfjs backend. Free of tfjs imports (the main thread may
// show it). Figures: bench/results/extraction-browser.md (headless Chromium on this project's 2-core machine).

import type { BackendName } from '../protocol/vocabulary.ts';

/** PLACEHOLDER until measured. */
export const DEFAULT_BATCH_SIZE: Readonly<Record<BackendName, number>> = { webgpu: 16, webgl: 8, wasm: 4, cpu: 2 };

/** The largest batch a caller may ask for: the tile pipeline holds up to three batches of pixels at once. */
export const MAX_BATCH_SIZE = 64;

/** Refuses a batch size a caller asked for that is not a whole number from 1 to MAX_BATCH_SIZE. */
export function checkBatchSize(asked: number): number {
  if (!Number.isInteger(asked) || asked < 1 || asked > MAX_BATCH_SIZE) throw new Error(`batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${asked}`);
  return asked;
}
