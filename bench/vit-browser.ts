// Bench suite `vit-browser`: the app's own workstation check (/benchmark) in headless Chromium: the real ViT worker, a
// fresh one per backend, synthetic images, one warm-up forward per batch size, the median of timed runs, and the
// tokens' agreement between backends.
// - tiny and paper presets on every backend (WebGPU and WebGL are software here, SwiftShader: paper is measured on them
//   only when one image takes under 20 s);
// - ViT-S/16, ViT-B/16 and ViT-L/16 (224 px, seeded random weights stored as fp16, streamed into the worker tensor by
//   tensor) on wasm with 1 and 2 threads, each in its own browser context, beside PyTorch CPU (timm's
//   VisionTransformer, bench/vit-torch.py via /work/venv-ref) at the same thread count, measured right after it in the
//   same run. Peak memory: the worker's wasm heap (it never shrinks, so its size is its peak) and the peak RSS (VmHWM)
//   of the Chromium renderer process that ran the page and its worker; PyTorch's peak RSS. The machine is shared, so
//   each pair records the load average.
// The suite builds the SPA when dist/ is missing or older than its sources, writes the fp16 model folders into
// dist/models/bench-* (ViT-L: 607 MB), and serves a hard-linked snapshot of dist/ from the embedded coordinator.
// Run alone: node bench/vit-browser.ts; VIT_BROWSER_MODELS=vit-l16,tiny measures only those presets (a quick check).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { BenchmarkReport, BenchmarkRow } from '../src/app/lib/benchmark.ts';
import { BACKEND_NAMES, type BackendName } from '../src/protocol/vocabulary.ts';
import { startEmbeddedCoordinator } from '../src/coordinator/embedded.ts';
import { VIT_PRESETS } from '../src/vit/config.ts';
import type { VitPresetName } from '../src/vit/config.ts';
import { parseManifest, vitConfigJson } from '../src/vit/weights.ts';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
/** What the SPA is built from: a newer file here makes dist/ stale. */
const SPA_SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package-lock.json'];
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'];
/** A software GPU is measured only when one image (after warm-up) takes less than this. */
const SOFTWARE_GPU_LIMIT_S = 20;
/** One page run may take this long (ViT-L/16 on one wasm thread is the longest: about 2 minutes on a loaded 2-core machine). */
const PAGE_RUN_TIMEOUT_MS = 900_000;

interface PageRun {
  model: VitPresetName;
  modelUrl: string;
  backends: BackendName[];
  batches: number[];
  images: number;
  runs: number;
  maxSecondsPerImage: number;
  /** Rows of these backends go into the table (another run may measure the rest). */
  report: BackendName[];
  /** WebAssembly thread counts (each in a fresh worker); default: the app's choice. */
  wasmThreads?: number[];
}

/** The machine's logical CPUs (the browser reports the same as navigator.hardwareConcurrency). */
const CORES = availableParallelism();
/** Thread counts the ViT-S/B/L wasm rows (and PyTorch beside them) are measured with. */
const THREAD_COUNTS = [...new Set([1, 2, CORES])];

type BenchPreset = Exclude<VitPresetName, 'tiny' | 'vit-s14-registers'>;
const BENCH_MODELS: Record<BenchPreset, string> = { paper: 'bench-paper', 'vit-s16': 'bench-vit-s16', 'vit-b16': 'bench-vit-b16', 'vit-l16': 'bench-vit-l16' };

/** The 224 px ViTs measured on wasm beside PyTorch: timm architecture, images per run, timed runs, batch sizes. */
const CPU_MODELS: { model: BenchPreset; architecture: string; images: number; runs: number; batches: number[]; torchRepeats: number }[] = [
  { model: 'vit-s16', architecture: 'vit_small_patch16_224', images: 4, runs: 3, batches: [1], torchRepeats: 5 },
  { model: 'vit-b16', architecture: 'vit_base_patch16_224', images: 4, runs: 2, batches: [1, 8], torchRepeats: 3 },
  { model: 'vit-l16', architecture: 'vit_large_patch16_224', images: 2, runs: 2, batches: [1], torchRepeats: 2 },
];

const ONLY = process.env.VIT_BROWSER_MODELS?.split(',');

const FULL_PLAN: PageRun[] = [
  { model: 'tiny', modelUrl: '/models/tiny/', backends: [...BACKEND_NAMES], batches: [1, 8], images: 8, runs: 5, maxSecondsPerImage: SOFTWARE_GPU_LIMIT_S, report: [...BACKEND_NAMES] },
  // Software GPUs at batch 1 beside wasm (the agreement reference); wasm's timing comes from the next run.
  { model: 'paper', modelUrl: '/models/bench-paper/', backends: ['webgpu', 'webgl', 'wasm'], batches: [1], images: 2, runs: 2, maxSecondsPerImage: SOFTWARE_GPU_LIMIT_S, report: ['webgpu', 'webgl'] },
  { model: 'paper', modelUrl: '/models/bench-paper/', backends: ['wasm'], batches: [1, 8], images: 8, runs: 3, maxSecondsPerImage: 60, report: ['wasm'] },
  ...CPU_MODELS.flatMap(({ model, images, runs, batches }) =>
    THREAD_COUNTS.map((threads): PageRun => ({ model, modelUrl: `/models/${BENCH_MODELS[model]}/`, backends: ['wasm'], batches, images, runs, maxSecondsPerImage: 120, report: ['wasm'], wasmThreads: [threads] })),
  ),
];
const PLAN = FULL_PLAN.filter((run) => !ONLY || ONLY.includes(run.model));

export interface BrowserRow {
  suite: 'vit-browser';
  model: VitPresetName;
  backend: BackendName;
  /** The WebGPU adapter, WebGL renderer or CPU path as the browser names it. */
  device: string;
  /** WebAssembly threads (wasm rows), else null. */
  threads: number | null;
  batch: number;
  msPerImage: number | null;
  /** images per timed run × timed runs */
  measured: string;
  maxAbsDiff: number | null;
  reference: string | null;
  /** The worker's WebAssembly heap after the runs (it never shrinks: its peak), MiB. */
  wasmHeapMiB: number | null;
  /** Peak RSS (VmHWM) of the renderer process that ran this page and its ViT worker, MiB (one model per page run). */
  rendererPeakRssMiB: number | null;
  /** Time to load the model folder in the worker (streamed from the server), s. */
  loadS: number | null;
  /** PyTorch CPU beside it: same model, same thread count, batch 1, measured right after in this run. */
  pytorchMsPerImage: number | null;
  /** PyTorch's CPU time per image: near its wall time unless other load took the cores. */
  pytorchCpuMsPerImage: number | null;
  pytorchPeakRssMiB: number | null;
  /** msPerImage / pytorchMsPerImage */
  ratioToPytorch: number | null;
  /** 1-minute load average when the pair was measured (the machine is shared). */
  loadAverage: number | null;
  note: string;
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

/** The SPA in dist/, rebuilt when it is missing or older than any of its sources. */
async function ensureBuilt(): Promise<string> {
  const index = join(DIST, 'index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sourcesAt = Math.max(...SPA_SOURCES.map((p) => newestMtime(join(ROOT, p))));
  if (builtAt > sourcesAt) return 'dist/ is up to date';
  // vite's shebang runs `node` from PATH: put this (pinned) Node first.
  await promisify(execFile)(join(ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    maxBuffer: 16 * 1024 * 1024,
  });
  return builtAt ? 'rebuilt dist/ (older than its sources)' : 'built dist/ (missing)';
}

/** True when `dir` holds a complete fp16 model folder of `preset` as make-tiny-model writes it. */
function isModelFolder(dir: string, preset: VitPresetName): boolean {
  try {
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    if (manifest.dtype !== 'F16') return false;
    if (readFileSync(join(dir, 'config.json'), 'utf8') !== vitConfigJson(VIT_PRESETS[preset])) return false;
    return Object.entries(manifest.files).every(([name, f]) => statSync(join(dir, name)).size === f.bytes);
  } catch {
    return false;
  }
}

/** Seeded random fp16 folders in dist/models/bench-* (kept when already there: a new build removes them). */
async function ensureModels(): Promise<string[]> {
  const notes: string[] = [];
  for (const [preset, name] of Object.entries(BENCH_MODELS) as [VitPresetName, string][]) {
    const dir = join(DIST, 'models', name);
    if (isModelFolder(dir, preset)) {
      notes.push(`${name} present`);
      continue;
    }
    await promisify(execFile)(process.execPath, ['scripts/make-tiny-model.ts', '--preset', preset, '--out', dir, '--dtype', 'f16'], { cwd: ROOT });
    notes.push(`${name} written`);
  }
  return notes;
}

/** Sets the page's form from the keyboard-operable controls and runs the check; resolves with its JSON report. */
async function runPage(page: Page, baseUrl: string, run: PageRun): Promise<BenchmarkReport> {
  await page.goto(`${baseUrl}/benchmark`);
  await page.getByTestId('backend-availability').waitFor();
  if (run.modelUrl === '/models/tiny/') {
    await page.getByRole('radio', { name: 'The bundled tiny demo model' }).check();
  } else {
    await page.getByRole('radio', { name: 'A model folder on this server' }).check();
    await page.getByLabel('Model folder address').fill(run.modelUrl);
  }
  for (const backend of BACKEND_NAMES) {
    const box = page.locator(`input[name="backend"][value="${backend}"]`);
    if (await box.isEnabled()) await box.setChecked(run.backends.includes(backend));
    else if (run.backends.includes(backend)) throw new Error(`the page offers no ${backend} in this browser`);
  }
  for (const batch of [1, 8]) await page.locator(`input[name="batch"][value="${batch}"]`).setChecked(run.batches.includes(batch));
  await page.getByLabel('Synthetic images per run').fill(String(run.images));
  await page.getByLabel('Timed runs').fill(String(run.runs));
  if (run.wasmThreads) await page.getByLabel('WebAssembly threads (comma-separated)').fill(run.wasmThreads.join(','));
  await page.getByLabel('Skip a backend slower than (s per image)').fill(String(run.maxSecondsPerImage));
  await page.getByRole('button', { name: 'Run workstation check' }).click();
  const done = page.getByTestId('benchmark-json').or(page.locator('.notice.error[role="alert"]'));
  await done.first().waitFor({ state: 'attached', timeout: PAGE_RUN_TIMEOUT_MS });
  const json = page.getByTestId('benchmark-json');
  if ((await json.count()) === 0) throw new Error(`${run.model} on ${run.backends.join(', ')}: ${await page.locator('.notice.error[role="alert"]').first().textContent()}`);
  return JSON.parse(await json.inputValue()) as BenchmarkReport;
}

/**
 * A row of `report` for the table. The page compares every backend with the first one measured, which leaves that
 * one's own difference empty; the difference is symmetric, so it is taken from a later backend compared with it.
 */
function toRow(model: VitPresetName, r: BenchmarkRow, report: BenchmarkReport): BrowserRow {
  const comparedWithThis = r.status === 'measured' && r.maxAbsDiff === null ? report.rows.find((o) => o.reference === r.backend && o.backend !== r.backend) : undefined;
  return {
    suite: 'vit-browser',
    model,
    backend: r.backend,
    device: r.device,
    threads: r.threads,
    batch: r.batch,
    msPerImage: r.msPerImage,
    measured: r.status === 'measured' ? `${r.imagesPerRun} × ${r.runsMsPerImage.length}` : '',
    maxAbsDiff: comparedWithThis?.maxAbsDiff ?? r.maxAbsDiff,
    reference: comparedWithThis?.backend ?? r.reference,
    wasmHeapMiB: r.memory?.wasmHeapBytes === undefined ? null : Math.round(r.memory.wasmHeapBytes / 2 ** 20),
    rendererPeakRssMiB: null,
    loadS: r.load ? Number((r.load.ms / 1000).toFixed(1)) : null,
    pytorchMsPerImage: null,
    pytorchCpuMsPerImage: null,
    pytorchPeakRssMiB: null,
    ratioToPytorch: null,
    loadAverage: null,
    note: r.status === 'measured' ? (r.reason ?? '') : `${r.status}: ${r.reason ?? ''}`,
  };
}

/** Node tfjs-wasm ms per image from bench/results/vit.json, when that suite has been run. */
function nodeWasmMsPerImage(model: VitPresetName, batch: number): number | null {
  try {
    const result = JSON.parse(readFileSync(join(import.meta.dirname, 'results', 'vit.json'), 'utf8')) as { rows: { model?: string; runtime?: string; batch?: number; msPerImage?: number }[] };
    return result.rows.find((r) => r.model === model && r.runtime?.startsWith('node tfjs-wasm') && r.batch === batch)?.msPerImage ?? null;
  } catch {
    return null;
  }
}

/**
 * dist/ with the bench models, as a hard-linked snapshot that the coordinator serves: other engineers' `vite build`
 * empties dist/ at any time, which would pull the SPA and the models from under a run that takes minutes.
 */
export async function servableSnapshot(): Promise<{ dir: string; setup: string }> {
  for (let attempt = 1; ; attempt++) {
    const build = await ensureBuilt();
    const models = await ensureModels();
    const dir = join(mkdtempSync(join(tmpdir(), 'cipherpath-vit-browser-')), 'spa');
    await promisify(execFile)('cp', ['-al', DIST, dir]);
    const complete = existsSync(join(dir, 'index.html')) && Object.entries(BENCH_MODELS).every(([preset, name]) => isModelFolder(join(dir, 'models', name), preset as VitPresetName));
    if (complete) return { dir, setup: [build, ...models].join('; ') };
    rmSync(dirname(dir), { recursive: true, force: true });
    if (attempt === 3) throw new Error('dist/ kept changing while it was being prepared (another build running?); try again');
  }
}

const PYTHON = '/work/venv-ref/bin/python';

/** PyTorch CPU at batch 1 (bench/vit-torch.py: timm architecture, random weights): median ms per image and peak RSS. */
interface TorchResult {
  torch: string;
  timm: string;
  msPerImage: number;
  cpuMsPerImage: number;
  peakRssBytes: number;
}

async function pytorch(architecture: string, threads: number, repeats: number): Promise<TorchResult> {
  const script = join(import.meta.dirname, 'vit-torch.py');
  const { stdout } = await promisify(execFile)(PYTHON, [script, '--architecture', architecture, '--threads', String(threads), '--repeats', String(repeats)], { timeout: 900_000 });
  return JSON.parse(stdout) as TorchResult;
}

/** Chromium renderer processes started under this Node process (Playwright launches the browser as a child), by pid. */
function rendererPids(): Set<number> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const renderers = new Set<number>();
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      try {
        if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('--type=renderer')) renderers.add(child);
      } catch {
        // ended
      }
      walk(child);
    }
  };
  walk(process.pid);
  return renderers;
}

/** Largest VmHWM (peak resident set) among `pids`, MiB. */
function peakRssMiB(pids: Iterable<number>): number | null {
  let peak: number | null = null;
  for (const pid of pids) {
    try {
      const kib = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (Number.isFinite(kib)) peak = Math.max(peak ?? 0, Math.round(kib / 1024));
    } catch {
      // ended
    }
  }
  return peak;
}

/** The WebGPU adapter the figures were taken on: its info, whether it is a fallback, shader-f16 and the limits tfjs uses. */
async function webGpuAdapter(browser: Browser, baseUrl: string): Promise<unknown> {
  const page = await browser.newPage();
  try {
    await page.goto(`${baseUrl}/benchmark`);
    return await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<null | { info: Record<string, unknown>; features: Set<string>; limits: Record<string, number> }> } }).gpu;
      const adapter = await gpu?.requestAdapter();
      if (!adapter) return { available: false };
      const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info as Record<string, unknown>;
      return {
        available: true, vendor, architecture, device, description, isFallbackAdapter,
        shaderF16: adapter.features.has('shader-f16'),
        features: [...adapter.features].sort(),
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      };
    });
  } finally {
    await page.close();
  }
}

/** PyTorch beside a wasm page run of a CPU model: the same thread count, run right after it, with the load average. */
async function besidePytorch(pageRun: PageRun, rows: BrowserRow[]): Promise<string | null> {
  const cpuModel = CPU_MODELS.find((m) => m.model === pageRun.model);
  const threads = pageRun.wasmThreads?.[0];
  if (!cpuModel || threads === undefined) return null;
  const torch = await pytorch(cpuModel.architecture, threads, cpuModel.torchRepeats);
  const load = Number(loadavg()[0]?.toFixed(2));
  for (const row of rows) {
    row.loadAverage = load;
    if (row.batch !== 1 || row.threads !== threads || row.msPerImage === null) continue;
    row.pytorchMsPerImage = torch.msPerImage;
    row.pytorchCpuMsPerImage = torch.cpuMsPerImage;
    row.pytorchPeakRssMiB = Math.round(torch.peakRssBytes / 2 ** 20);
    row.ratioToPytorch = Number((row.msPerImage / torch.msPerImage).toFixed(2));
  }
  return `torch ${torch.torch}, timm ${torch.timm}`;
}

/** Every page run of PLAN in one headless Chromium, each in a fresh browser context (so a fresh renderer process). */
async function measure(baseUrl: string): Promise<{ browserVersion: string; rows: BrowserRow[]; reports: BenchmarkReport[]; adapter: unknown; pytorch: string | null }> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const rows: BrowserRow[] = [];
  const reports: BenchmarkReport[] = [];
  let torchVersion: string | null = null;
  try {
    for (const pageRun of PLAN) {
      const before = rendererPids();
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (e) => process.stderr.write(`[vit-browser] page error: ${e.message}\n`));
      const started = performance.now();
      const runRows: BrowserRow[] = [];
      try {
        const report = await runPage(page, baseUrl, pageRun);
        reports.push(report);
        runRows.push(...report.rows.filter((r) => pageRun.report.includes(r.backend)).map((r) => toRow(pageRun.model, r, report)));
        if (pageRun.wasmThreads?.length === 1) {
          const peak = peakRssMiB([...rendererPids()].filter((pid) => !before.has(pid)));
          for (const row of runRows) row.rendererPeakRssMiB = peak;
        }
      } finally {
        await context.close();
      }
      torchVersion = (await besidePytorch(pageRun, runRows)) ?? torchVersion;
      rows.push(...runRows);
      process.stderr.write(`[vit-browser] ${pageRun.model} on ${pageRun.backends.join(', ')}${pageRun.wasmThreads ? ` (${pageRun.wasmThreads.join(',')} threads)` : ''}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    }
    return { browserVersion: browser.version(), rows, reports, adapter: await webGpuAdapter(browser, baseUrl), pytorch: torchVersion };
  } finally {
    await browser.close();
  }
}

export async function run(): Promise<{ rows: BrowserRow[] } & Record<string, unknown>> {
  const { dir: spaDir, setup } = await servableSnapshot();
  const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
  let measured: Awaited<ReturnType<typeof measure>>;
  try {
    const coordinator = await startEmbeddedCoordinator({ env: { STATIC_DIR: spaDir } });
    try {
      measured = await measure(coordinator.url);
    } finally {
      await coordinator.close();
    }
  } finally {
    rmSync(dirname(spaDir), { recursive: true, force: true });
  }
  const { browserVersion, rows, reports, adapter, pytorch: torchVersion } = measured;
  const wasm = (model: VitPresetName, batch: number, threads?: number) =>
    rows.find((r) => r.model === model && r.backend === 'wasm' && r.batch === batch && (threads === undefined || r.threads === threads));
  const ratioToNode = Object.fromEntries(
    (['tiny', 'paper', 'vit-s16', 'vit-b16', 'vit-l16'] as const).map((model) => {
      const nodeMs = nodeWasmMsPerImage(model, 1);
      const browserMs = (wasm(model, 1, 1) ?? wasm(model, 1))?.msPerImage ?? null;
      return [`${model} b1`, browserMs !== null && nodeMs !== null ? Number((browserMs / nodeMs).toFixed(2)) : null];
    }),
  );
  const agreement = Math.max(...reports.map((report) => report.maxAbsDiff ?? 0));
  /** The side-by-side table: per model and thread count, tfjs-wasm in Chromium and PyTorch, ms per tile and peak memory. */
  const besideTorch = CPU_MODELS.flatMap(({ model }) =>
    THREAD_COUNTS.map((threads) => {
      const r = wasm(model, 1, threads);
      return `${model} ${threads}t: ${r?.msPerImage?.toFixed(0) ?? '-'} ms (heap ${r?.wasmHeapMiB ?? '-'} MiB, renderer ${r?.rendererPeakRssMiB ?? '-'} MiB) vs PyTorch ${r?.pytorchMsPerImage?.toFixed(0) ?? '-'} ms (${r?.pytorchPeakRssMiB ?? '-'} MiB), x${r?.ratioToPytorch ?? '-'}, load ${r?.loadAverage ?? '-'}`;
    }),
  );
  // Issue 17's headline figures, ViT-B/16 at batch 1: the 2-thread speedup, and tfjs over PyTorch at each thread count.
  const b16 = (threads: number) => wasm('vit-b16', 1, threads);
  const oneThread = b16(1)?.msPerImage ?? null;
  const twoThreads = b16(2)?.msPerImage ?? null;
  const ratioToPytorchByThreads = Object.fromEntries(THREAD_COUNTS.map((t) => [String(t), b16(t)?.ratioToPytorch ?? null]));
  return {
    browser: `Chromium ${browserVersion} headless`,
    cores: CORES,
    threadCounts: THREAD_COUNTS,
    /** ViT-B/16 batch 1: tiles/s with 2 wasm threads over tiles/s with 1 */
    wasmThreadSpeedup2: oneThread !== null && twoThreads !== null ? Number((oneThread / twoThreads).toFixed(2)) : null,
    /** ViT-B/16 batch 1: tfjs wasm ms/tile over PyTorch CPU ms/tile at 2 threads, same machine and run */
    ratioToPytorchSameThreads: ratioToPytorchByThreads['2'] ?? null,
    ratioToPytorchByThreads,
    loadAverageAtStart: loadBefore,
    loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
    pytorch: torchVersion,
    besideTorch,
    webgpuAdapter: adapter,
    setup,
    maxAbsDiffBetweenBackends: Number(agreement.toPrecision(2)),
    /** browser wasm ms per image / Node tfjs-wasm ms per image in bench/results/vit.json (both wall time, batch 1, one thread) */
    browserWasmOverNodeWasm: ratioToNode,
    rows,
  };
}

if (import.meta.main) {
  const { rows, ...summary } = await run();
  console.log(summary);
  console.table(rows);
}
