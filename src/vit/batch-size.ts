// Images per forward pass when the caller does not say, per tfjs backend. Free of tfjs imports (the main thread may
// show it). Chosen from bench/results/extraction-browser.md (headless Chromium on this project's shared 2-core
// machine), by Chromium's CPU ms per tile, which the machine's changing load moves much less than wall time:
// - webgpu, webgl: GPU backends batch the whole pass (fused QKV, batched attention). On SwiftShader the tiny model
//   took 252 → 137 → 119 → 110 → 103 CPU ms per tile (webgpu) and 57 → 24 → 19 → 18.6 → 18.1 (webgl) at batch
//   1, 4, 8, 16, 32. 16 saves 8 % (webgpu) and 2 % (webgl) over 8, but a batch is also what a reload or a cancel
//   loses and what the first tokens wait for: at 16, 18 tiles on SwiftShader went as 16 + 2, and the second batch
//   ended before a reload after the first could land. A real GPU gains more from batching; that is for a GPU bench.
// - wasm: the model runs one image at a time there (per-head 2D matMuls), so batching only amortises the per-batch
//   hops: tiny 2.8 → 2.3 CPU ms per tile from batch 1 to 4 and flat beyond; ViT-B/16 (2 threads) 1335, 1353, 1366 at
//   1, 4, 8. Small batches keep progress, cancel and caching fine-grained (a ViT-B/16 tile takes about a second on a CPU).
// - cpu: flat (tiny: 62, 61, 69 CPU ms per tile at 1, 4, 16); one image at a time loses the least on a reload.

import type { BackendName } from '../protocol/vocabulary.ts';

export const DEFAULT_BATCH_SIZE: Readonly<Record<BackendName, number>> = { webgpu: 8, webgl: 8, wasm: 4, cpu: 1 };

/** The largest batch a caller may ask for: the tile pipeline holds up to three batches of pixels at once. */
export const MAX_BATCH_SIZE = 64;

/** Refuses a batch size a caller asked for that is not a whole number from 1 to MAX_BATCH_SIZE. */
export function checkBatchSize(asked: number): number {
  if (!Number.isInteger(asked) || asked < 1 || asked > MAX_BATCH_SIZE) throw new Error(`batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${asked}`);
  return asked;
}
