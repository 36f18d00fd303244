// The workstation check: how fast this browser runs the ViT on each tfjs backend, and whether the backends agree.
// Each backend gets a fresh ViT worker (a worker holds one tfjs backend for its lifetime), forced through the chooser
// by allowing only the chain that starts at it, with software GPUs allowed because this is an explicit test. A
// measurement is one untimed warm-up forward at the batch size, then `runs` timed passes over the same synthetic
// images; the row reports the median ms per image and the tokens' largest difference from the first backend's.
import { mulberry32 } from '../../common/mulberry32.ts';
import { type BackendInspection, inspectBackends } from '../../vit/backend-probe.ts';
import { VitWorkerClient } from '../../vit/client.ts';
import type { InitOptions, InitResult, LoadReport, MemoryStats, RgbaImage } from '../../vit/worker-protocol.ts';
import { formatBytes } from '../../common/format-bytes.ts';
import { BACKEND_NAMES, type BackendName } from '../../protocol/vocabulary.ts';
import { backendChain } from './url-params.ts';
import { defaultWasmThreads, MAX_WASM_THREADS, threadsLabel } from '../../vit/wasm-threads.ts';

export type ModelSource = { kind: 'url'; url: string } | { kind: 'files'; label: string; files: Record<string, Blob> };

/** The probe's findings as the page shows them: `reason` is why a backend is unavailable, or what a slow one costs. */
export type BackendAvailability = Omit<BackendInspection, 'simd'>;

export interface BenchmarkSettings {
  model: ModelSource;
  backends: BackendName[];
  batches: number[];
  /** Synthetic images per timed run (a run at batch b uses at least b). */
  images: number;
  runs: number;
  /** WebAssembly thread counts to measure wasm with, each in a fresh worker (default: the app's choice). */
  wasmThreads?: number[];
  /** A backend whose single image takes longer than this (after warm-up) is skipped with the measured time. */
  maxSecondsPerImage: number;
  /** Simulate a smaller GPU: WebGPU buffers planned for and refused above this many bytes. */
  webgpuBufferLimitBytes?: number;
  /** Simulate a smaller device: a model needing more memory than this is refused. */
  memoryLimitBytes?: number;
}

export type RowStatus = 'measured' | 'skipped' | 'failed';

export interface BenchmarkRow {
  backend: BackendName;
  device: string;
  /** WebAssembly threads (wasm rows only). */
  threads: number | null;
  batch: number;
  status: RowStatus;
  /** Median over the timed runs of (run time / images in the run); null unless measured. */
  msPerImage: number | null;
  runsMsPerImage: number[];
  imagesPerRun: number;
  /** Largest |token difference| against `reference` over the same images; null for the reference itself. */
  maxAbsDiff: number | null;
  reference: string | null;
  /** One image after warm-up, when it was timed (the basis for skipping a slow backend). */
  singleImageMs: number | null;
  reason: string | null;
  /** The worker's memory after this row's runs; peakBytes is the wasm heap (it never shrinks) or the GPU allocation. */
  memory: MemoryStats | null;
  /** How the model was loaded for this row: time, the memory estimate and allowance, a WebGPU buffer plan. */
  load: LoadReport | null;
}

export interface BenchmarkProgress {
  done: number;
  total: number;
  step: string;
}

export interface BenchmarkReport {
  model: { source: string; modelSha256: string | null; imageSize: number | null; hiddenSize: number | null; layers: number | null };
  settings: Omit<BenchmarkSettings, 'model'>;
  environment: { userAgent: string; hardwareConcurrency: number; crossOriginIsolated: boolean; deviceMemoryGiB: number | null };
  rows: BenchmarkRow[];
  /** Largest maxAbsDiff over the measured rows (null with fewer than two measurements). */
  maxAbsDiff: number | null;
}

/** What the page adds to the probe's findings: the cost of an available but slow path. */
function note(found: BackendInspection): string | null {
  if (found.software) return `software ${found.backend === 'webgpu' ? 'adapter' : 'renderer'}: works, but normally slower than WebAssembly`;
  if (found.backend === 'wasm' && found.simd === false) return 'no WebAssembly SIMD: about 2x slower';
  if (found.backend === 'cpu') return 'always works; the slowest';
  return null;
}

/** What this browser offers for each backend, in the chooser's order (src/vit/backend-probe.ts). */
export async function probeBackends(): Promise<BackendAvailability[]> {
  return (await inspectBackends()).map((found) => ({
    backend: found.backend,
    available: found.available,
    device: found.device,
    software: found.software,
    reason: found.available ? note(found) : found.reason,
  }));
}

/** Deterministic noise images of `size`×`size`, the same for every backend so that their tokens can be compared. */
export function syntheticImages(count: number, size: number, seed = 1): RgbaImage[] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const rgba = new Uint8ClampedArray(size * size * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i & 3) === 3 ? 255 : Math.floor(next() * 256);
    return { rgba, width: size, height: size };
  });
}

/** Copies, because the worker takes ownership of the pixel buffers it is sent. */
const copies = (images: readonly RgbaImage[]): RgbaImage[] => images.map((im) => ({ ...im, rgba: new Uint8ClampedArray(im.rgba) }));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function maxAbsDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  const count = Math.min(a.length, b.length);
  for (let i = 0; i < count; i++) {
    const x = a[i] as Float32Array;
    const y = b[i] as Float32Array;
    if (x.length !== y.length) throw new Error(`token ${i} has ${x.length} values on one backend and ${y.length} on the other`);
    for (let d = 0; d < x.length; d++) max = Math.max(max, Math.abs((x[d] as number) - (y[d] as number)));
  }
  return max;
}

/** Problems with the settings, in words; empty when the run can start. */
export function checkSettings(s: BenchmarkSettings): string[] {
  const problems: string[] = [];
  if (s.backends.length === 0) problems.push('Choose at least one backend.');
  if (s.batches.length === 0) problems.push('Choose at least one batch size.');
  if (!Number.isInteger(s.images) || s.images < 1 || s.images > 64) problems.push('The number of images must be a whole number from 1 to 64.');
  if (!Number.isInteger(s.runs) || s.runs < 1 || s.runs > 20) problems.push('The number of runs must be a whole number from 1 to 20.');
  if (s.wasmThreads?.some((t) => !Number.isInteger(t) || t < 1 || t > MAX_WASM_THREADS)) problems.push(`WebAssembly thread counts must be whole numbers from 1 to ${MAX_WASM_THREADS}.`);
  if (!(s.maxSecondsPerImage > 0)) problems.push('The time limit per image must be more than 0 seconds.');
  for (const [cap, label] of [
    [s.webgpuBufferLimitBytes, 'GPU buffer limit'],
    [s.memoryLimitBytes, 'memory limit'],
  ] as const) {
    if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1024)) problems.push(`The simulated ${label} must be at least 1 KiB (or empty for this device's own).`);
  }
  if (s.model.kind === 'url' && !isSameOriginPath(s.model.url)) problems.push(`The model address "${s.model.url.slice(0, 80)}" must be a path on this server, such as /models/tiny/.`);
  return problems;
}

export function isSameOriginPath(url: string): boolean {
  return url.startsWith('/') && !url.startsWith('//') && !url.includes('\\');
}

function newVitWorker(): VitWorkerClient {
  return new VitWorkerClient(new Worker(new URL('../../vit/worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-vit-benchmark' }));
}

const abortError = () => new DOMException('benchmark cancelled', 'AbortError');

export interface BenchmarkCallbacks {
  onProgress?(progress: BenchmarkProgress): void;
  onRow?(row: BenchmarkRow): void;
  onInit?(backend: BackendName, init: InitResult): void;
  signal?: AbortSignal;
}

/** Runs every chosen backend in the chooser's order; rows arrive through onRow as they are measured. */
export async function runBenchmark(settings: BenchmarkSettings, availability: readonly BackendAvailability[], cb: BenchmarkCallbacks = {}): Promise<BenchmarkReport> {
  const problems = checkSettings(settings);
  if (problems.length > 0) throw new Error(problems.join(' '));
  const backends = BACKEND_NAMES.filter((b) => settings.backends.includes(b));
  const batches = [...new Set(settings.batches)].sort((a, b) => a - b);
  const maxBatch = Math.max(...batches);
  const perRun = (batch: number) => Math.max(settings.images, batch);
  // Progress counts images through the ViT: warm-up, the single-image probe, then each batch's warm-up and runs.
  const perBackend = 1 + batches.reduce((sum, b) => sum + b + settings.runs * perRun(b), 0);
  const wasmThreads = settings.wasmThreads?.length ? [...new Set(settings.wasmThreads)] : [defaultWasmThreads()];
  const runs = backends.flatMap((backend): { backend: BackendName; threads: number | null }[] => (backend === 'wasm' ? wasmThreads.map((threads) => ({ backend, threads })) : [{ backend, threads: null }]));
  const total = runs.length * perBackend;
  let done = 0;
  const progress = (step: string) => cb.onProgress?.({ done, total, step });
  const rows: BenchmarkRow[] = [];
  const emit = (row: BenchmarkRow) => {
    rows.push(row);
    cb.onRow?.(row);
  };
  let reference: { backend: BackendName; tokens: Float32Array[] } | null = null;
  let modelInfo: BenchmarkReport['model'] = {
    source: settings.model.kind === 'url' ? settings.model.url : `picked folder ${settings.model.label}`,
    modelSha256: null,
    imageSize: null,
    hiddenSize: null,
    layers: null,
  };
  const modelOption: Pick<InitOptions, 'modelUrl' | 'modelFiles'> = settings.model.kind === 'url' ? { modelUrl: settings.model.url } : { modelFiles: settings.model.files };

  for (const { backend, threads } of runs) {
    if (cb.signal?.aborted) throw abortError();
    const probed = availability.find((a) => a.backend === backend)?.device ?? 'unknown';
    let device = threads === null ? probed : `${probed}, ${threadsLabel(threads)}`;
    let measuredThreads = threads;
    const name = threads === null ? backend : `${backend} (${threadsLabel(threads)})`;
    const row = (batch: number, fields: Partial<BenchmarkRow>): BenchmarkRow => ({
      backend, device, threads: measuredThreads, batch, status: 'skipped', msPerImage: null, runsMsPerImage: [], imagesPerRun: perRun(batch),
      maxAbsDiff: null, reference: null, singleImageMs: null, reason: null, memory: null, load: null, ...fields,
    });
    const startDone = done;
    const skipAll = (fields: Partial<BenchmarkRow>) => {
      for (const batch of batches) emit(row(batch, fields));
      done = startDone + perBackend;
    };
    const available = availability.find((a) => a.backend === backend);
    if (available && !available.available) {
      skipAll({ reason: `not available in this browser: ${available.reason ?? 'unknown reason'}` });
      continue;
    }
    progress(`${name}: starting a fresh ViT worker and loading the model`);
    const worker = newVitWorker();
    const onAbort = () => worker.terminate();
    cb.signal?.addEventListener('abort', onAbort, { once: true });
    const embed = async (images: RgbaImage[], step: string): Promise<{ ms: number; tokens: Float32Array[] }> => {
      if (cb.signal?.aborted) throw abortError();
      progress(step);
      const started = performance.now();
      const tokens = await worker.embed(copies(images), undefined, cb.signal);
      const ms = performance.now() - started;
      done += images.length;
      progress(step);
      return { ms, tokens };
    };
    try {
      const caps = { webgpuBufferLimitBytes: settings.webgpuBufferLimitBytes, memoryLimitBytes: settings.memoryLimitBytes };
      const init = await worker.init({ ...modelOption, ...caps, allow: backendChain(backend), allowSoftwareGpu: true, batchSize: maxBatch, wasmThreads: threads ?? undefined });
      cb.onInit?.(backend, init);
      modelInfo = { ...modelInfo, modelSha256: init.modelSha256, imageSize: init.config.image_size, hiddenSize: init.config.hidden_size, layers: init.config.num_hidden_layers };
      if (init.backend.backend !== backend) {
        const why = init.backend.skipped.find((s) => s.backend === backend)?.reason ?? 'unknown reason';
        skipAll({ reason: `tfjs could not start ${backend} (${why}); the worker fell back to ${init.backend.backend}` });
        continue;
      }
      // The row says what was measured: when tfjs does not honour the thread count asked for, the figure is for the
      // count it runs, and the device column says so (a silently mislabelled figure would mislead the comparison).
      if (threads !== null && init.backend.wasmThreads !== undefined && init.backend.wasmThreads !== threads) {
        measuredThreads = init.backend.wasmThreads;
        device = `${probed}, ${threadsLabel(measuredThreads)} (asked for ${threads}; tfjs did not start more)`;
      }
      const images = syntheticImages(Math.max(settings.images, maxBatch), init.config.image_size);
      await embed(images.slice(0, 1), `${name}: warm-up (first forward pass compiles kernels)`);
      const single = await embed(images.slice(0, 1), `${name}: timing one image`);
      if (single.ms > settings.maxSecondsPerImage * 1000) {
        skipAll({
          singleImageMs: single.ms,
          reason: `one image took ${(single.ms / 1000).toFixed(1)} s after warm-up, over the ${settings.maxSecondsPerImage} s limit`,
        });
        continue;
      }
      for (const batch of batches) {
        const runImages = images.slice(0, perRun(batch));
        const pass = async (label: string) => {
          const tokens: Float32Array[] = [];
          let ms = 0;
          for (let at = 0; at < runImages.length; at += batch) {
            const part = await embed(runImages.slice(at, at + batch), label);
            ms += part.ms;
            tokens.push(...part.tokens);
          }
          return { ms, tokens };
        };
        await embed(runImages.slice(0, batch), `${name}, batch ${batch}: warm-up`);
        const times: number[] = [];
        let tokens: Float32Array[] = [];
        for (let r = 1; r <= settings.runs; r++) {
          const result = await pass(`${name}, batch ${batch}: run ${r} of ${settings.runs}`);
          times.push(result.ms / runImages.length);
          tokens = result.tokens;
        }
        const diff = reference ? maxAbsDifference(tokens, reference.tokens) : null;
        const memory = await worker.memory();
        const measured = row(batch, {
          status: 'measured', msPerImage: median(times), runsMsPerImage: times, maxAbsDiff: diff, reference: reference?.backend ?? null, singleImageMs: single.ms,
          memory, load: init.load, reason: planNote(init.load, maxBatch),
        });
        reference ??= { backend, tokens };
        emit(measured);
      }
    } catch (error) {
      if (cb.signal?.aborted) throw abortError();
      const message = (error as Error).message;
      for (const batch of batches) if (!rows.some((r) => r.backend === backend && r.threads === threads && r.batch === batch)) emit(row(batch, { status: 'failed', reason: message }));
      done = startDone + perBackend;
    } finally {
      cb.signal?.removeEventListener('abort', onAbort);
      worker.terminate();
    }
  }
  progress('done');
  const diffs = rows.flatMap((r) => (r.maxAbsDiff === null ? [] : [r.maxAbsDiff]));
  const { webgpuBufferLimitBytes, memoryLimitBytes } = settings;
  return {
    model: modelInfo,
    settings: { backends, batches, wasmThreads, images: settings.images, runs: settings.runs, maxSecondsPerImage: settings.maxSecondsPerImage, webgpuBufferLimitBytes, memoryLimitBytes },
    environment: {
      userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, crossOriginIsolated: window.crossOriginIsolated,
      deviceMemoryGiB: (navigator as { deviceMemory?: number }).deviceMemory ?? null,
    },
    rows,
    maxAbsDiff: diffs.length ? Math.max(...diffs) : null,
  };
}

/** What a measured row says about its load: the WebGPU buffer plan when it split a kernel or ran fewer images than `batch` per pass. */
function planNote(load: LoadReport, batch: number): string | null {
  const plan = load.webgpuPlan;
  if (!plan || (plan.split.length === 0 && plan.maxBatch >= batch)) return null;
  const parts = plan.split.map((s) => `${s.tensor} (${formatBytes(s.bytes)}) in ${s.blocks} column blocks`);
  return `under the ${formatBytes(plan.limitBytes)} ${plan.limit}: ${parts.length ? parts.join('; ') : 'no kernel split'}; at most ${plan.maxBatch} images per forward pass`;
}
