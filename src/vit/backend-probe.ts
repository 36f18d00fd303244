// What this browser (or worker) offers for each tfjs backend, found without loading tfjs: the WebGPU adapter, the
// WebGL renderer, WebAssembly SIMD. chooseBackend (backend.ts) decides with it; the workstation check and the
// settings page show it. Kept apart from backend.ts so the main thread can ask without pulling tfjs in.
import { simd } from 'wasm-feature-detect';
import type { BackendName } from '../protocol/vocabulary.ts';

export interface BackendInspection {
  backend: BackendName;
  /** False when this environment cannot run it at all (`reason` says why). */
  available: boolean;
  /** The device as the browser names it: WebGPU adapter, WebGL renderer, or the CPU path. */
  device: string;
  /** A software GPU (SwiftShader, llvmpipe): usable, but normally slower than WebAssembly. */
  software: boolean;
  /** wasm only: whether WebAssembly SIMD validates here (without it the wasm backend is about 2x slower). */
  simd?: boolean;
  /** Why it is unavailable; null when available. */
  reason: string | null;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

const unavailable = (backend: BackendName, reason: string): BackendInspection => ({ backend, available: false, device: '—', software: false, reason });

export async function inspectWebGpu(): Promise<BackendInspection> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu) return unavailable('webgpu', 'this browser has no WebGPU (navigator.gpu is missing or disabled)');
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return unavailable('webgpu', `requestAdapter() failed: ${(error as Error).message}`);
  }
  if (!adapter) return unavailable('webgpu', 'WebGPU is present but the browser offers no adapter (GPU blocklisted or no driver)');
  const info = adapter.info ?? {};
  const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || /swiftshader/i.test(info.architecture ?? '');
  const device = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || (software ? 'fallback adapter' : 'unnamed adapter');
  return { backend: 'webgpu', available: true, device, software, reason: null };
}

export function inspectWebGl(): BackendInspection {
  let gl: WebGL2RenderingContext | null;
  if (typeof OffscreenCanvas !== 'undefined') gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  else if (typeof document !== 'undefined') gl = document.createElement('canvas').getContext('webgl2');
  else return unavailable('webgl', 'no OffscreenCanvas or document to create a WebGL context');
  if (!gl) return unavailable('webgl', 'a WebGL 2 context could not be created');
  const debugInfo = gl.getExtension('WEBGL_debug_renderer_info');
  const device = String(gl.getParameter(debugInfo ? debugInfo.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { backend: 'webgl', available: true, device, software: SOFTWARE_RENDERER.test(device), reason: null };
}

export async function inspectWasm(): Promise<BackendInspection> {
  if (typeof WebAssembly === 'undefined') return unavailable('wasm', 'WebAssembly is not available');
  const hasSimd = await simd();
  return { backend: 'wasm', available: true, device: `CPU, WebAssembly${hasSimd ? ' SIMD' : ' without SIMD'}`, software: false, simd: hasSimd, reason: null };
}

/** Every backend, in the chooser's order. */
export async function inspectBackends(): Promise<BackendInspection[]> {
  return [await inspectWebGpu(), inspectWebGl(), await inspectWasm(), { backend: 'cpu', available: true, device: 'CPU, plain JavaScript', software: false, reason: null }];
}
