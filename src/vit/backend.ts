// Picks the fastest working tfjs backend in the order webgpu -> webgl -> wasm -> cpu and records
// why each better one was skipped, so the UI can say why extraction is slow. Software GPUs
// (SwiftShader, llvmpipe) are skipped unless allowed: they are 10-35x slower than wasm on ViT-B.

import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BACKEND_NAMES, type BackendName, isOneOf } from '../protocol/vocabulary.ts';
import { inspectWebGl, inspectWebGpu } from './backend-probe.ts';
import { defaultWasmThreads } from './wasm-threads.ts';

export interface BackendChoice {
  backend: BackendName;
  skipped: { backend: string; reason: string }[];
  /** Threads the wasm backend actually runs on (tfjs's own count; wasm only). */
  wasmThreads?: number;
}

export interface ChooseBackendOptions {
  /** Backends that may be used (default: all four). */
  allow?: readonly string[];
  /** Accept a software WebGPU/WebGL adapter (tests on SwiftShader). */
  allowSoftwareGpu?: boolean;
  /** Where the wasm backend finds its .wasm files (a URL prefix or one URL per file name). */
  wasmPaths?: string | Record<string, string>;
  /** WebAssembly threads (1: the single-threaded SIMD build; more need cross-origin isolation; default defaultWasmThreads()). */
  wasmThreads?: number;
}

const SET_BACKEND_TIMEOUT_MS = 60_000;

/** Why `name` cannot be used here, or undefined when it is usable (the attempt itself comes later). */
type Probe = (opts: ChooseBackendOptions) => Promise<string | undefined>;

const probeWebGpu: Probe = async (opts) => {
  const found = await inspectWebGpu();
  if (!found.available) return found.reason ?? 'WebGPU is not available';
  if (found.software && !opts.allowSoftwareGpu) return `software adapter (${found.device}) is slower than wasm`;
  await import('@tensorflow/tfjs-backend-webgpu'); // registers the backend
  return undefined;
};

const probeWebGl: Probe = async (opts) => {
  const found = inspectWebGl();
  if (!found.available) return found.reason ?? 'WebGL is not available';
  if (found.software && !opts.allowSoftwareGpu) return `software renderer (${found.device}) is slower than wasm`;
  // Without this the webgl backend keeps ~1 GB of textures after ViT-B tensors are disposed.
  tf.env().set('WEBGL_DELETE_TEXTURE_THRESHOLD', 0);
  return undefined;
};

const probeWasm: Probe = async (opts) => {
  if (typeof WebAssembly === 'undefined') return 'WebAssembly is not available';
  if (opts.wasmPaths !== undefined) setWasmPaths(opts.wasmPaths);
  const threads = opts.wasmThreads ?? defaultWasmThreads();
  if (threads <= 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else {
    setThreadsCount(threads);
    reportCoresForTfjs(2 * threads);
  }
  return undefined;
};

/**
 * tfjs-backend-wasm 4.22 caps its XNNPACK thread pool at navigator.hardwareConcurrency / 2 whatever setThreadsCount
 * asks (backend.cc init_with_threads_count assumes two hyperthreads per core), so on a 2-core workstation it never
 * starts a second thread. Emscripten reads the figure once, when the module is instantiated: the worker's navigator
 * reports enough cores for the count asked. Only the ViT worker's own navigator changes (tfjs runs in a worker).
 */
function reportCoresForTfjs(cores: number): void {
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav || nav.hardwareConcurrency >= cores) return;
  Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => cores });
}

const probeCpu: Probe = async () => undefined;

const PROBES: Record<BackendName, Probe> = { webgpu: probeWebGpu, webgl: probeWebGl, wasm: probeWasm, cpu: probeCpu };

async function trySetBackend(name: BackendName): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), SET_BACKEND_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([tf.setBackend(name), timeout]);
    if (result === 'timeout') return `tf.setBackend('${name}') did not finish within ${SET_BACKEND_TIMEOUT_MS / 1000} s`;
    if (!result) return `tf.setBackend('${name}') failed (its error is in the console)`;
    if (tf.getBackend() !== name) return `tf.setBackend('${name}') left tfjs on '${tf.getBackend()}'`;
    return undefined;
  } catch (error) {
    return `tf.setBackend('${name}') threw: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Activates the first usable backend of webgpu, webgl, wasm, cpu (restricted to `allow`). */
export async function chooseBackend(opts: ChooseBackendOptions = {}): Promise<BackendChoice> {
  const allow = opts.allow ?? BACKEND_NAMES;
  const unknown = allow.filter((name) => !isOneOf(BACKEND_NAMES, name));
  if (unknown.length > 0) throw new Error(`chooseBackend: unknown backend ${unknown.join(', ')}; known: ${BACKEND_NAMES.join(', ')}`);
  const skipped: BackendChoice['skipped'] = [];
  for (const backend of BACKEND_NAMES) {
    if (!allow.includes(backend)) {
      skipped.push({ backend, reason: 'not in the allowed list' });
      continue;
    }
    let reason: string | undefined;
    try {
      reason = (await PROBES[backend](opts)) ?? (await trySetBackend(backend));
    } catch (error) {
      reason = `setup failed: ${(error as Error).message}`;
    }
    if (reason === undefined) return backend === 'wasm' ? { backend, skipped, wasmThreads: getThreadsCount() } : { backend, skipped };
    skipped.push({ backend, reason });
  }
  throw new Error(`no tfjs backend works: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}
