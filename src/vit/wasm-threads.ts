// How many WebAssembly threads the ViT worker gives tfjs. Kept free of tfjs imports so the main thread (Settings,
// the workstation check) can show the figure without loading tfjs.

/** tfjs's pthread pool is fixed when the backend starts; more threads than this stop paying off for ViT-B matmuls. */
export const MAX_WASM_THREADS = 16;

/**
 * Threads for `cores` logical CPUs: all of them on 1-2 cores (one thread would halve the speed there), otherwise one
 * core is left for slide decoding and the page. Threads need cross-origin isolation (SharedArrayBuffer); without it
 * the answer is 1.
 */
export function defaultWasmThreads(cores = globalThis.navigator?.hardwareConcurrency ?? 1, isolated = globalThis.crossOriginIsolated ?? false): number {
  if (!isolated || !Number.isInteger(cores) || cores < 2) return 1;
  return Math.min(MAX_WASM_THREADS, cores <= 2 ? cores : cores - 1);
}

export function threadsLabel(threads: number): string {
  return threads === 1 ? '1 thread' : `${threads} threads`;
}
