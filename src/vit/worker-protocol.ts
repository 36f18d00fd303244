// Types shared by the ViT worker (worker-host.ts, its handler table on src/rpc) and its main-thread client.

import type { BackendChoice } from './backend.ts';
import type { BufferPlan, MemoryAllowance, MemoryEstimate } from './buffer-plan.ts';
import type { ImageProcessorConfig, VitConfig } from './config.ts';

/** An image as canvas getImageData gives it: width x height x 4 bytes, not premultiplied. */
export interface RgbaImage {
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
}

export interface InitOptions {
  /** Model folder URL, e.g. '/models/tiny/' (resolved against the worker's location). */
  modelUrl?: string;
  /** A model folder's files by name (a folder the user picked: Files are read as streams, never whole); used instead of modelUrl. */
  modelFiles?: Record<string, Uint8Array | Blob>;
  /** Backends that may be used, in any order (default: webgpu, webgl, wasm, cpu). */
  allow?: string[];
  allowSoftwareGpu?: boolean;
  /** WebAssembly threads for the wasm backend (default defaultWasmThreads(): every core on 1-2 cores, else one left free). */
  wasmThreads?: number;
  /** Images per forward pass (default per backend: DEFAULT_BATCH_SIZE in batch-size.ts). */
  batchSize?: number;
  /** Simulates a smaller GPU: WebGPU buffers are planned for, and refused above, this many bytes (tests, the workstation check). */
  webgpuBufferLimitBytes?: number;
  /** Simulates a smaller device: a model estimated to need more memory than this is refused before its tensors are read. */
  memoryLimitBytes?: number;
}

export interface LoadReport {
  ms: number;
  bytes: number;
  /** Most bytes the stream reader held at once (one tensor's): the file is never held whole. */
  peakBufferedBytes: number;
  /** The memory the model was estimated to need (from the safetensors header) and what this browser allows. */
  estimate: MemoryEstimate;
  allowance: MemoryAllowance | null;
  /** WebGPU only: the buffer limit planned for, kernels split into column blocks, images per forward pass. */
  webgpuPlan?: BufferPlan;
  memory: MemoryStats;
}

export interface InitResult {
  backend: BackendChoice;
  config: VitConfig;
  modelSha256: string;
  load: LoadReport;
  /** The model folder's preprocessing (a caller that preprocesses elsewhere, as the tile pipeline does, needs it). */
  processor: ImageProcessorConfig;
  /** Images per forward pass: the one asked for, else the backend's default. */
  batchSize: number;
}

export interface PixelBatchResult {
  tokens: Float32Array[];
  /** Time of the forward pass alone, inside the worker. */
  forwardMs: number;
}

export interface Progress {
  done: number;
  total: number;
  /** Estimated milliseconds left, from the mean time per image so far. */
  etaMs: number;
}

export interface MemoryStats {
  numTensors: number;
  numBytes: number;
  backend: string;
  /** wasm: the heap's size, which never shrinks, so also its peak. */
  wasmHeapBytes?: number;
  /** webgpu: GPU buffer bytes tfjs has allocated (its pool keeps freed buffers, so this is a high-water mark). */
  gpuBytesAllocated?: number;
  /** webgpu: the largest single GPU buffer created. */
  largestGpuBufferBytes?: number;
  /** The worker's JS heap, where the browser reports it (Chromium's performance.memory). */
  jsHeapBytes?: number;
  /** The model's peak memory as far as this worker can tell: the wasm heap, or the GPU allocation, or live tensor bytes. */
  peakBytes: number;
}

/** Error name used when an embed request was cancelled. */
export const CANCELLED = 'AbortError';
