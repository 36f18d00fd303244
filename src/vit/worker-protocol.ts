// Messages between VitWorkerClient (main thread) and worker.ts. Every request carries an id; the
// worker answers it exactly once with {id, type, ok} or {id, type, err}, and may send progress
// events with the same id before that.

import type { BackendChoice } from './backend.ts';
import type { VitConfig } from './config.ts';

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
  /** WebAssembly threads for the wasm backend (default 1). */
  wasmThreads?: number;
  /** Images per forward pass (default 8). */
  batchSize?: number;
}

export interface InitResult {
  backend: BackendChoice;
  config: VitConfig;
  modelSha256: string;
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

export type VitRequest =
  | { id: number; type: 'init'; options: InitOptions }
  | { id: number; type: 'embed'; images: RgbaImage[] }
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'memory' };

interface ResultByType {
  init: InitResult;
  embed: Float32Array[];
  cancel: { cancelled: boolean };
  memory: MemoryStats;
}

export type RequestType = VitRequest['type'];

export type VitReply = {
  [T in RequestType]: { id: number; type: T; ok: ResultByType[T] } | { id: number; type: T; err: { name: string; message: string } };
}[RequestType];

export interface ProgressEvent extends Progress {
  id: number;
  type: 'progress';
}

export type VitWorkerMessage = VitReply | ProgressEvent;

export type ResultOf<T extends RequestType> = ResultByType[T];

/** Error name used when an embed request was cancelled. */
export const CANCELLED = 'AbortError';
