// The worker's load path (worker-load.ts through vitHandlers) on the real tfjs wasm backend: a picked folder's Files are
// streamed (Blob.stream) into the same tokens as bytes, the load report carries the header's estimate and the wasm
// heap, and a model that needs more memory than the browser allows is refused with both figures before any tensor is
// built. The WebGPU half (buffer limits, splitting, fallback) needs a browser: e2e/vit-streaming.spec.ts.
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/mulberry32.ts';
import { useNodeWasmBackend } from './node-io.ts';
import { vitHandlers } from './worker-host.ts';

const TINY_DIR = new URL('../../public/models/tiny/', import.meta.url);
const NAMES = ['manifest.json', 'config.json', 'preprocessor_config.json', 'model.safetensors'];
let bytes: Record<string, Uint8Array<ArrayBuffer>>;

beforeAll(async () => {
  await useNodeWasmBackend();
  bytes = Object.fromEntries(await Promise.all(NAMES.map(async (name) => [name, new Uint8Array(await readFile(new URL(name, TINY_DIR))) as Uint8Array<ArrayBuffer>] as const)));
});

function images() {
  const next = mulberry32(3);
  return Array.from({ length: 3 }, () => ({ rgba: Uint8ClampedArray.from({ length: 40 * 40 * 4 }, () => Math.floor(next() * 256)), width: 40, height: 40 }));
}

describe('loading a model folder in the worker', () => {
  it('streams picked Files into the tokens the bytes give, and reports the estimate and the wasm heap', async () => {
    const host = vitHandlers({ baseUrl: 'file:///' });
    const fromBytes = await host.init({ options: { modelFiles: bytes, allow: ['wasm'] } });
    const reference = await host.embed({ images: images() }, { signal: new AbortController().signal, progress: () => undefined });
    const files = Object.fromEntries(NAMES.map((name) => [name, new Blob([bytes[name] as Uint8Array<ArrayBuffer>])]));
    const fromFiles = await host.init({ options: { modelFiles: files, allow: ['wasm'] } });
    const tokens = await host.embed({ images: images() }, { signal: new AbortController().signal, progress: () => undefined });
    expect(tokens).toEqual(reference);
    expect(fromFiles.modelSha256).toBe(fromBytes.modelSha256);
    const { load } = fromFiles;
    const size = (bytes['model.safetensors'] as Uint8Array).byteLength;
    expect(load.bytes).toBe(size);
    expect(load.peakBufferedBytes).toBeLessThan(size / 5);
    expect(load.estimate.parameters).toBe(930624);
    expect(load.estimate.weightBytes).toBe(4 * 930624);
    expect(load.allowance).toEqual({ bytes: 4294901760, source: 'the WebAssembly heap limit' });
    expect(load.memory.wasmHeapBytes).toBeGreaterThan(load.estimate.weightBytes);
    expect(load.memory.peakBytes).toBe(load.memory.wasmHeapBytes);
    expect(load.webgpuPlan).toBeUndefined();
  });

  it('refuses a model that needs more memory than this browser allows, before building any tensor', async () => {
    const host = vitHandlers({ baseUrl: 'file:///' });
    const before = tf.memory().numTensors;
    await expect(host.init({ options: { modelFiles: bytes, allow: ['wasm'], memoryLimitBytes: 2 * 2 ** 20 } })).rejects.toThrow(
      /^This ViT \(2 layers of width 192\) cannot be held here: it needs about [\d.]+ MiB \(3\.55 MiB of float32 weights for 0\.9M parameters, [\d.]+ MiB to load and run\), this browser allows 2 MiB \(the memory limit set for this run\)$/,
    );
    expect(tf.memory().numTensors).toBe(before);
    await expect(host.embed({ images: images() }, { signal: new AbortController().signal, progress: () => undefined })).rejects.toThrow('the worker has no model');
    await expect(host.init({ options: { modelFiles: bytes, memoryLimitBytes: 0 } })).rejects.toThrow('memoryLimitBytes must be a positive whole number of bytes, got 0');
  });

  it('refuses a picked model.safetensors with one byte flipped by its checksum', async () => {
    const host = vitHandlers({ baseUrl: 'file:///' });
    const flipped = (bytes['model.safetensors'] as Uint8Array).slice();
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 1;
    const before = tf.memory().numTensors;
    await expect(host.init({ options: { modelFiles: { ...bytes, 'model.safetensors': new Blob([flipped]) }, allow: ['wasm'] } })).rejects.toThrow(
      /^model folder: checksum mismatch for model.safetensors: manifest.json says [0-9a-f]{64}, file is [0-9a-f]{64}$/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
