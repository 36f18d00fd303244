// Bench suite `vit-browser`: ms per image at batch 1 and 8 for the tiny, paper and ViT-B/16 presets in headless
// Chromium, measured by the app's own workstation check (/benchmark): the real ViT worker, a fresh one per backend,
// synthetic images, one warm-up forward per batch size, the median of timed runs, and the tokens' agreement between
// backends. Here WebGPU and WebGL are software (SwiftShader): they are measured for tiny, and for paper at batch 1
// only when one image takes under 20 s; ViT-B/16 runs on WebAssembly only, with 1, 2 and every core's worth of
// threads, beside PyTorch CPU (bench/python/vit_b16_torch.py via /work/venv-ref) at the same thread counts in the
// same run. The WebGPU adapter's info and features (shader-f16) go into the json with the figures.
// The suite builds the SPA when dist/ is missing or older than its sources, writes seeded random fp16 paper and
// ViT-B/16 model folders into dist/models/bench-*, and serves a hard-linked snapshot of dist/ from the embedded
// coordinator.
// Run alone: node bench/vit-browser.ts
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
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
/** One page run may take this long (ViT-B/16 on wasm at 1, 2 and N threads is the longest; over 300 s on a loaded 2-core machine). */
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
/** Thread counts the ViT-B/16 wasm rows are measured with: 1, 2 and every core. */
const THREAD_COUNTS = [...new Set([1, 2, CORES])];

const BENCH_MODELS: Record<Exclude<VitPresetName, 'tiny' | 'mini-s14-registers'>, string> = { paper: 'bench-paper', 'vit-b16': 'bench-vit-b16' };

const PLAN: PageRun[] = [
  { model: 'tiny', modelUrl: '/models/tiny/', backends: [...BACKEND_NAMES], batches: [1, 8], images: 8, runs: 5, maxSecondsPerImage: SOFTWARE_GPU_LIMIT_S, report: [...BACKEND_NAMES] },
  // Software GPUs at batch 1 beside wasm (the agreement reference); wasm's timing comes from the next run.
  { model: 'paper', modelUrl: '/models/bench-paper/', backends: ['webgpu', 'webgl', 'wasm'], batches: [1], images: 2, runs: 2, maxSecondsPerImage: SOFTWARE_GPU_LIMIT_S, report: ['webgpu', 'webgl'] },
  { model: 'paper', modelUrl: '/models/bench-paper/', backends: ['wasm'], batches: [1, 8], images: 8, runs: 3, maxSecondsPerImage: 60, report: ['wasm'] },
  { model: 'vit-b16', modelUrl: '/models/bench-vit-b16/', backends: ['wasm'], batches: [1, 8], images: 4, runs: 2, maxSecondsPerImage: 60, report: ['wasm'], wasmThreads: THREAD_COUNTS },
];

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
    note: r.status === 'measured' ? '' : `${r.status}: ${r.reason ?? ''}`,
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

/** PyTorch CPU ms per image for ViT-B/16 at batch 1 per thread count (bench/python/vit_b16_torch.py). */
async function pytorchMsPerImage(threads: number[]): Promise<{ torch: string; msPerImage: Record<string, number> }> {
  const { stdout } = await promisify(execFile)(PYTHON, [join(import.meta.dirname, 'python', 'vit_b16_torch.py'), ...threads.map(String)], { timeout: 900_000 });
  return JSON.parse(stdout) as { torch: string; msPerImage: Record<string, number> };
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
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      };
    });
  } finally {
    await page.close();
  }
}

/** Every page run of PLAN in one headless Chromium, each in a fresh browser context. */
async function measure(baseUrl: string): Promise<{ browserVersion: string; rows: BrowserRow[]; reports: BenchmarkReport[]; adapter: unknown }> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const rows: BrowserRow[] = [];
  const reports: BenchmarkReport[] = [];
  try {
    for (const pageRun of PLAN) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (e) => process.stderr.write(`[vit-browser] page error: ${e.message}\n`));
      const started = performance.now();
      try {
        const report = await runPage(page, baseUrl, pageRun);
        reports.push(report);
        rows.push(...report.rows.filter((r) => pageRun.report.includes(r.backend)).map((r) => toRow(pageRun.model, r, report)));
      } finally {
        await context.close();
      }
      process.stderr.write(`[vit-browser] ${pageRun.model} on ${pageRun.backends.join(', ')}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    }
    return { browserVersion: browser.version(), rows, reports, adapter: await webGpuAdapter(browser, baseUrl) };
  } finally {
    await browser.close();
  }
}

export async function run(): Promise<{ rows: BrowserRow[] } & Record<string, unknown>> {
  const { dir: spaDir, setup } = await servableSnapshot();
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
  const { browserVersion, rows, reports, adapter } = measured;
  // ViT-B/16 on a software GPU would take minutes per image here (tfjs-webgpu.md: 18-60 s per image).
  for (const backend of ['webgpu', 'webgl'] as const) {
    const device = reports[0]?.rows.find((r) => r.backend === backend)?.device ?? '';
    rows.push({ suite: 'vit-browser', model: 'vit-b16', backend, device, threads: null, batch: 1, msPerImage: null, measured: '', maxAbsDiff: null, reference: null, note: 'skipped: software GPU, not run for ViT-B/16 (paper-size runs show it is far slower than wasm)' });
  }
  const wasm = (model: VitPresetName, batch: number, threads?: number) =>
    rows.find((r) => r.model === model && r.backend === 'wasm' && r.batch === batch && (threads === undefined || r.threads === threads))?.msPerImage ?? null;
  const torch = await pytorchMsPerImage(THREAD_COUNTS);
  const perThreads = (f: (threads: number) => number | null) => Object.fromEntries(THREAD_COUNTS.map((t) => [String(t), f(t)]));
  const ratioByThreads = perThreads((t) => {
    const tfjs = wasm('vit-b16', 1, t);
    const py = torch.msPerImage[String(t)];
    return tfjs !== null && py !== undefined ? Number((tfjs / py).toFixed(2)) : null;
  });
  const oneThread = wasm('vit-b16', 1, 1);
  const twoThreads = wasm('vit-b16', 1, 2);
  const ratioToNode = Object.fromEntries(
    (['tiny', 'paper', 'vit-b16'] as const).flatMap((model) =>
      [1, 8].map((batch) => {
        const nodeMs = nodeWasmMsPerImage(model, batch);
        const browserMs = wasm(model, batch, 1) ?? wasm(model, batch);
        return [`${model} b${batch}`, browserMs !== null && nodeMs !== null ? Number((browserMs / nodeMs).toFixed(2)) : null];
      }),
    ),
  );
  const agreement = Math.max(...reports.map((report) => report.maxAbsDiff ?? 0));
  const fastest = Object.fromEntries(
    (['tiny', 'paper', 'vit-b16'] as const).map((model) => {
      const measured = rows.filter((r) => r.model === model && r.msPerImage !== null);
      const best = measured.reduce<BrowserRow | undefined>((a, r) => (a === undefined || (r.msPerImage as number) < (a.msPerImage as number) ? r : a), undefined);
      return [model, best ? `${best.backend} batch ${best.batch}: ${(best.msPerImage as number).toFixed(1)} ms/image` : 'none measured'];
    }),
  );
  return {
    browser: `Chromium ${browserVersion} headless`,
    cores: CORES,
    /** ViT-B/16 batch 1: tiles/s with 2 wasm threads over tiles/s with 1 */
    wasmThreadSpeedup2: oneThread !== null && twoThreads !== null ? Number((oneThread / twoThreads).toFixed(2)) : null,
    /** ViT-B/16 batch 1: tfjs wasm ms/tile over PyTorch CPU ms/tile at 2 threads, same machine and run */
    ratioToPytorchSameThreads: ratioByThreads['2'] ?? null,
    ratioToPytorchByThreads: ratioByThreads,
    wasmMsPerTileByThreads: perThreads((t) => wasm('vit-b16', 1, t)),
    pytorch: { version: torch.torch, model: 'timm vit_base_patch16_224, random weights, batch 1', msPerImageByThreads: torch.msPerImage },
    webgpuAdapter: adapter,
    setup,
    fastest,
    maxAbsDiffBetweenBackends: Number(agreement.toPrecision(2)),
    /** browser wasm ms per image / Node tfjs-wasm ms per image in bench/results/vit.json (both wall time) */
    browserWasmOverNodeWasm: ratioToNode,
    rows,
  };
}

if (import.meta.main) {
  const { rows, ...summary } = await run();
  console.log(summary);
  console.table(rows);
}
