// How the ViT worker loads a model folder: its small files verified first, then the backend chosen and checked against
// the model (a WebGPU device whose buffer limits the model cannot be planned for is left for wasm or cpu, with the
// reason), the memory estimate from the safetensors header compared with what this browser allows, and
// model.safetensors streamed into the backend tensor by tensor (stream-load.ts), from a fetch body or a picked File.

import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, chooseBackend, type ChooseBackendOptions } from './backend.ts';
import { checkMemory, DeviceLimitError, estimateModelMemory, memoryAllowance, planBuffers, type BufferPlan, type MemoryAllowance, type MemoryEstimate } from './buffer-plan.ts';
import { VitModel } from './model.ts';
import { bytesStream, type StreamedModel, streamVitModel } from './stream-load.ts';
import { gpuErrorScopes, largestGpuBufferBytes, watchGpuBuffers, webGpuBufferLimit } from './webgpu-device.ts';
import { readModelHead, type ModelHead } from './weights.ts';
import type { InitOptions, LoadReport, MemoryStats } from './worker-protocol.ts';
import { BACKEND_NAMES } from '../protocol/vocabulary.ts';
import { formatBytes } from '../common/format-bytes.ts';

/** Where a model folder's files come from: small ones read whole, model.safetensors as a stream. */
export interface ModelSource {
  read(name: string): Promise<Uint8Array>;
  stream(name: string): Promise<ReadableStream<Uint8Array>>;
}

async function fetchOk(url: URL): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url.href}`);
  return response;
}

export function urlModelSource(folder: URL): ModelSource {
  return {
    read: async (name) => new Uint8Array(await (await fetchOk(new URL(name, folder))).arrayBuffer()),
    stream: async (name) => {
      const { body } = await fetchOk(new URL(name, folder));
      if (!body) throw new Error(`no body for ${new URL(name, folder).href}`);
      return body;
    },
  };
}

/** Picked files (Blob.stream() reads a File from disk in chunks) or bytes already in memory. */
export function filesModelSource(files: Record<string, Uint8Array | Blob>): ModelSource {
  const get = (name: string) => {
    const file = files[name];
    if (!file) throw new Error('not among the picked files');
    return file;
  };
  return {
    read: async (name) => {
      const file = get(name);
      return file instanceof Uint8Array ? file : new Uint8Array(await file.arrayBuffer());
    },
    stream: async (name) => {
      const file = get(name);
      return file instanceof Uint8Array ? bytesStream(file) : file.stream();
    },
  };
}

/** What this worker's memory is now (the wasm heap never shrinks, so its size is also its peak). */
export function memoryStats(): MemoryStats {
  const { numTensors, numBytes } = tf.memory();
  const backend = tf.getBackend();
  const stats: MemoryStats = { numTensors, numBytes, backend, peakBytes: numBytes };
  if (backend === 'wasm') {
    const wasm = (tf.backend() as unknown as { wasm?: { wasmMemory?: WebAssembly.Memory; HEAPU8?: Uint8Array } }).wasm;
    const heap = wasm?.wasmMemory?.buffer.byteLength ?? wasm?.HEAPU8?.byteLength;
    if (heap !== undefined) stats.wasmHeapBytes = stats.peakBytes = heap;
  } else if (backend === 'webgpu') {
    const gpu = (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU;
    if (gpu !== undefined) stats.gpuBytesAllocated = stats.peakBytes = Math.max(gpu, numBytes);
    const largest = largestGpuBufferBytes();
    if (largest !== undefined) stats.largestGpuBufferBytes = largest;
  }
  const jsHeap = (performance as { memory?: { usedJSHeapSize?: number } }).memory?.usedJSHeapSize;
  if (jsHeap !== undefined) stats.jsHeapBytes = jsHeap;
  return stats;
}

interface Backed {
  backend: BackendChoice;
  plan?: BufferPlan;
}

/** The backend to load on: chooseBackend's pick, or the next one when the model cannot be planned within WebGPU's buffer limits. */
async function backendFor(head: ModelHead, init: InitOptions, choose: ChooseBackendOptions, batchSize: number): Promise<Backed> {
  const backend = await chooseBackend(choose);
  if (backend.backend !== 'webgpu') return { backend };
  const limit = webGpuBufferLimit(init.webgpuBufferLimitBytes);
  try {
    const plan = planBuffers(head.config, 'fused', limit.limitBytes, limit.limit, batchSize);
    watchGpuBuffers(init.webgpuBufferLimitBytes);
    return { backend, plan };
  } catch (error) {
    if (!(error instanceof DeviceLimitError)) throw error;
    // WebGL on the same GPU would have to hold the same tensors in textures, with limits nobody can query; the CPU
    // backends have the memory check, so the fallback goes there.
    const reason = `the model does not fit this GPU: ${error.message}`;
    const rest = (choose.allow ?? BACKEND_NAMES).filter((name) => name !== 'webgpu' && name !== 'webgl');
    if (rest.length === 0) throw new DeviceLimitError(reason);
    const fallback = await chooseBackend({ ...choose, allow: rest });
    const notTried = 'not tried: the model did not fit WebGPU’s buffer limits, and WebGL’s cannot be checked';
    const skipped = fallback.skipped.map((s) => (s.backend === 'webgpu' ? { backend: 'webgpu', reason } : s.backend === 'webgl' && (choose.allow ?? BACKEND_NAMES).includes('webgl') ? { backend: 'webgl', reason: notTried } : s));
    return { backend: { ...fallback, skipped } };
  }
}

/** An upload that failed for want of memory, reported as such (the estimate said it would fit: say by how much it was off). */
function uploadFailure(error: unknown, tensor: string, built: number, estimate: () => MemoryEstimate, allowance: MemoryAllowance | null): Error {
  const message = (error as Error).message ?? String(error);
  if (error instanceof DeviceLimitError || !/memory|OOM|Aborted|allocat/i.test(message)) return error as Error;
  const heap = memoryStats().wasmHeapBytes;
  return new DeviceLimitError(
    `ran out of memory building tensor "${tensor}" (${built} tensors built${heap === undefined ? '' : `, WebAssembly heap ${formatBytes(heap)}`}): ` +
      `the model needs about ${formatBytes(estimate().totalBytes)}, this browser allows ${allowance ? formatBytes(allowance.bytes) : 'an unknown amount'} (${message})`,
  );
}

export interface LoadedInWorker {
  head: ModelHead;
  backend: BackendChoice;
  model: VitModel;
  load: LoadReport;
}

/** Loads the model folder of `source` for `init` (see the file comment); nothing of a failed load stays on the backend. */
export async function loadInWorker(source: ModelSource, init: InitOptions, choose: ChooseBackendOptions, batchSize: number): Promise<LoadedInWorker> {
  const started = performance.now();
  const head = await readModelHead(source.read);
  const { backend, plan } = await backendFor(head, init, choose, batchSize);
  const qkvLayout = VitModel.layoutForBackend();
  const deviceMemory = (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;
  const allowance = memoryAllowance(backend.backend, deviceMemory, init.memoryLimitBytes);
  const { config } = head;
  const label = `This ViT (${config.num_hidden_layers} layers of width ${config.hidden_size})`;
  let estimate = estimateModelMemory(config, qkvLayout, plan?.maxBatch ?? batchSize);
  const scopes = gpuErrorScopes();
  let streamed: StreamedModel | undefined;
  let failure: unknown;
  try {
    const stream = await source.stream('model.safetensors').catch((error: unknown) => {
      throw new Error(`model folder: cannot read model.safetensors: ${(error as Error).message}`, { cause: error });
    });
    streamed = await streamVitModel(head, stream, {
      qkvLayout,
      maxKernelBytes: plan?.limitBytes,
      maxBatch: plan?.maxBatch,
      beforeTensors: (parameters, storedBytes) => {
        estimate = estimateModelMemory(config, qkvLayout, plan?.maxBatch ?? batchSize, storedBytes, parameters);
        checkMemory(estimate, allowance, label);
      },
      uploadError: (error, tensor, built) => uploadFailure(error, tensor, built, () => estimate, allowance),
    });
  } catch (error) {
    failure = error;
  }
  // A GPU error caught meanwhile explains a failure better than what followed from it.
  const gpuError = await scopes.close('while loading the model').then(() => undefined, (error: unknown) => error);
  if (gpuError !== undefined) {
    streamed?.model.dispose();
    throw gpuError;
  }
  if (!streamed) throw failure;
  const { model, stats } = streamed;
  const load: LoadReport = { ms: performance.now() - started, bytes: stats.bytes, peakBufferedBytes: stats.peakBufferedBytes, estimate, allowance, memory: memoryStats() };
  if (plan) load.webgpuPlan = plan;
  return { head, backend, model, load };
}
