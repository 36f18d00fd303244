// Types shared by the ViT worker (worker-host.ts, its handler table on src/rpc) and its main-thread client.

import type { BackendChoice } from './backend.ts';
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
  /** A model folder's files by name (a folder the user picked); used instead of modelUrl. */
  modelFiles?: Record<string, Uint8Array>;
  /** Backends that may be used, in any order (default: webgpu, webgl, wasm, cpu). */
  allow?: string[];
  allowSoftwareGpu?: boolean;
  /** WebAssembly threads for the wasm backend (default defaultWasmThreads(): every core on 1-2 cores, else one left free). */
  wasmThreads?: number;
  /** Images per forward pass (default per backend: DEFAULT_BATCH_SIZE in batch-size.ts). */
  batchSize?: number;
}

export interface InitResult {
  backend: BackendChoice;
  config: VitConfig;
  modelSha256: string;
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
}

/** Error name used when an embed request was cancelled. */
export const CANCELLED = 'AbortError';
