// Images per forward pass when the caller does not say, per tfjs backend. Free of tfjs imports (the main thread may
// show it). Chosen from bench/results/extraction-browser.md (headless Chromium, this project's 2-core machine):
// - webgpu, webgl: GPU backends batch the whole pass (fused QKV, batched attention); on SwiftShader the tiny model ran
//   4.9 → 16.8 tiles/s (webgpu) and 28 → 100 (webgl) from batch 1 to 16, and batch 32 added under 12 %, for twice the
//   activations and a coarser cache step. A real GPU gains more from batching, and 16 ViT-L images fit in any of them.
// - wasm: the model runs one image at a time there (per-head 2D matMuls), so batching only amortises the per-batch
//   hops; tiny-model forward throughput was flat from batch 4 up (within 5 %) and ViT-B/16 showed no gain at 8. Small
//   batches keep progress, cancel and caching fine-grained (a ViT-B/16 batch is seconds per tile on a CPU).
// - cpu: flat across batch sizes (17–18 tiles/s, tiny); one image at a time loses the least on a reload.

import type { BackendName } from '../protocol/vocabulary.ts';

export const DEFAULT_BATCH_SIZE: Readonly<Record<BackendName, number>> = { webgpu: 16, webgl: 16, wasm: 4, cpu: 1 };

/** The largest batch a caller may ask for: the tile pipeline holds up to three batches of pixels at once. */
export const MAX_BATCH_SIZE = 64;

/** Refuses a batch size a caller asked for that is not a whole number from 1 to MAX_BATCH_SIZE. */
export function checkBatchSize(asked: number): number {
  if (!Number.isInteger(asked) || asked < 1 || asked > MAX_BATCH_SIZE) throw new Error(`batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${asked}`);
  return asked;
}
