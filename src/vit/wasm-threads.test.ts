// How many WebAssembly threads the ViT worker asks tfjs for: every core on 1-2 cores, one left for decoding and the
// page above that, capped, and 1 whenever the page is not cross-origin isolated (no SharedArrayBuffer).
import { expect, it } from 'vitest';
import { defaultWasmThreads, MAX_WASM_THREADS, threadsLabel } from './wasm-threads.ts';

it('asks for every core on small machines, leaves one on larger ones, and never threads without isolation', () => {
  expect([1, 2, 3, 4, 8, 32].map((cores) => defaultWasmThreads(cores, true))).toEqual([1, 2, 2, 3, 7, MAX_WASM_THREADS]);
  expect(defaultWasmThreads(16, false)).toBe(1);
  expect(defaultWasmThreads(Number.NaN, true)).toBe(1);
  expect([threadsLabel(1), threadsLabel(2)]).toEqual(['1 thread', '2 threads']);
});
