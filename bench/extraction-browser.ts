// Bench suite `extraction-browser`: the Slides page's tile pipeline (src/app/lib/extraction.ts) in headless
// Chromium: tiles/s end to end (JPEG tiles read, decoded and preprocessed in the decode worker, the forward pass in
// the ViT worker, tokens cached in IndexedDB, batch k+1 decoded while batch k runs) against the forward pass alone on
// the same batches (preprocessed beforehand), and the same pipeline run strictly in series (ahead 0: what decoding in
// the ViT worker itself would cost, since its thread is busy for the whole forward pass). Runs alternate
// (forward, pipelined, serial, rotating which goes first) and each figure is the median. The batch-size rows are what
// src/vit/batch-size.ts's per-backend defaults were chosen from: wasm at 1 and 2 threads for the tiny model and
// ViT-B/16, the software WebGPU and WebGL (SwiftShader) for the tiny model only (ViT-B/16 takes 18-60 s per image
// there). Generated 256 px JPEG tiles (seeded) are served beside the SPA; the page drives the real workers through
// the bench hook in src/app/lib/extraction-bench.ts. Run alone: node bench/extraction-browser.ts
// EXTRACTION_BENCH_QUICK=1 measures one small row per model (a smoke run).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { chromium, type Page } from 'playwright-core';
import type { BenchSessionInfo, BenchSessionSpec } from '../src/app/lib/extraction-bench.ts';
import type { PipelineTimes } from '../src/app/lib/extraction.ts';
import { mulberry32 } from '../src/common/mulberry32.ts';
import { startEmbeddedCoordinator } from '../src/coordinator/embedded.ts';
import type { BackendName } from '../src/protocol/vocabulary.ts';
import { DEFAULT_BATCH_SIZE } from '../src/vit/batch-size.ts';
import { CHROMIUM_ARGS, servableSnapshot } from './vit-browser.ts';

const TILE_SIZE = 256;
const QUICK = process.env.EXTRACTION_BENCH_QUICK === '1';
const CORES = availableParallelism();

interface Measurement {
  model: 'tiny' | 'vit-b16';
  modelUrl: string;
  backend: BackendName;
  threads?: number;
  batch: number;
  tiles: number;
  /** Alternating rounds (each: forward alone, pipelined, and serial on headline rows). */
  rounds: number;
  /** The headline row of issue 17's extraction figure (also timed in series). */
  headline?: boolean;
}

const TINY = { model: 'tiny', modelUrl: '/models/tiny/' } as const;
const VIT_B = { model: 'vit-b16', modelUrl: '/models/bench-vit-b16/' } as const;

function plan(): Measurement[] {
  if (QUICK) {
    return [
      { ...TINY, backend: 'wasm', threads: 2, batch: DEFAULT_BATCH_SIZE.wasm, tiles: 32, rounds: 2, headline: true },
      { ...VIT_B, backend: 'wasm', threads: 2, batch: DEFAULT_BATCH_SIZE.wasm, tiles: 2 * DEFAULT_BATCH_SIZE.wasm, rounds: 1, headline: true },
    ];
  }
  const sweep = (base: Omit<Measurement, 'batch'>, batches: number[]): Measurement[] => batches.map((batch) => ({ ...base, batch }));
  return [
    ...[1, 2].flatMap((threads) => sweep({ ...TINY, backend: 'wasm', threads, tiles: 96, rounds: 3 }, [1, 4, 8, 16, 32])),
    ...sweep({ ...TINY, backend: 'webgpu', tiles: 32, rounds: 2 }, [1, 4, 8, 16, 32]),
    ...sweep({ ...TINY, backend: 'webgl', tiles: 32, rounds: 2 }, [1, 4, 8, 16, 32]),
    ...sweep({ ...TINY, backend: 'cpu', tiles: 16, rounds: 1 }, [1, 4, 16]),
    ...sweep({ ...VIT_B, backend: 'wasm', threads: 1, tiles: 8, rounds: 1 }, [1, 8]),
    ...sweep({ ...VIT_B, backend: 'wasm', threads: 2, tiles: 8, rounds: 1 }, [1, 4, 8]),
    // One thread too: two threads on two cores collapse for the tiny model whenever another process wants a core
    // (each of its many small kernels waits for both threads), which one thread does not.
    { ...TINY, backend: 'wasm', threads: 1, batch: DEFAULT_BATCH_SIZE.wasm, tiles: 96, rounds: 5, headline: true },
    { ...TINY, backend: 'wasm', threads: 2, batch: DEFAULT_BATCH_SIZE.wasm, tiles: 96, rounds: 5, headline: true },
    { ...VIT_B, backend: 'wasm', threads: 2, batch: DEFAULT_BATCH_SIZE.wasm, tiles: 2 * DEFAULT_BATCH_SIZE.wasm, rounds: 7, headline: true },
  ];
}

/** Seeded tissue-like JPEG tiles: smooth stain-coloured blobs with grain, so they compress as real tiles do. */
function writeTiles(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let t = 0; t < count; t++) {
    const next = mulberry32(1000 + t);
    const blobs = Array.from({ length: 12 }, () => ({ x: next() * TILE_SIZE, y: next() * TILE_SIZE, r: 10 + next() * 40, dark: next() }));
    const data = Buffer.alloc(TILE_SIZE * TILE_SIZE * 4);
    for (let y = 0; y < TILE_SIZE; y++) {
      for (let x = 0; x < TILE_SIZE; x++) {
        let ink = 0;
        for (const b of blobs) ink = Math.max(ink, Math.max(0, 1 - Math.hypot(x - b.x, y - b.y) / b.r) * (0.4 + 0.6 * b.dark));
        const grain = (next() - 0.5) * 30;
        const i = (y * TILE_SIZE + x) * 4;
        data[i] = Math.max(0, Math.min(255, 240 - 90 * ink + grain));
        data[i + 1] = Math.max(0, Math.min(255, 215 - 160 * ink + grain));
        data[i + 2] = Math.max(0, Math.min(255, 230 - 60 * ink + grain));
        data[i + 3] = 255;
      }
    }
    const name = `tile-${String(t).padStart(3, '0')}.jpg`;
    writeFileSync(join(dir, name), jpeg.encode({ data, width: TILE_SIZE, height: TILE_SIZE }, 90).data);
    names.push(name);
  }
  return names;
}

/** Linux clock ticks per second (USER_HZ), the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_S = 100;

/**
 * CPU time (user + system, ms) of every process below `root` (the Chromium this process launched: browser, renderer
 * with the page and its workers, GPU process), not counting `root` itself (it hosts the coordinator). On a shared
 * machine wall time swings with other processes' load; the CPU the browser spent per run does much less.
 */
function descendantsCpuMs(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    parent.set(Number(entry), Number(fields[1]));
    ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
  }
  const isBelowRoot = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 0; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const [pid, t] of ticks) if (isBelowRoot(pid)) total += t;
  return (total * 1000) / CLOCK_TICKS_PER_S;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Percent by which `variant` exceeds `baseline`: the median over rounds of variant[r] / baseline[r], minus one. */
const overheadOf = (variant: readonly number[], baseline: readonly number[]): number =>
  Number(((median(variant.map((v, r) => v / (baseline[r] as number))) - 1) * 100).toFixed(1));

export interface ExtractionRow {
  suite: 'extraction-browser';
  model: string;
  backend: string;
  threads: number | null;
  batch: number;
  tiles: number;
  rounds: number;
  forwardTilesPerS: number;
  pipelinedTilesPerS: number;
  serialTilesPerS: number | null;
  /** pipelined wall time over forward-alone wall time, minus one: the median of each round's ratio (a round's runs are
   *  adjacent in time, so a change in the machine's load mostly cancels) */
  overheadPct: number;
  serialOverheadPct: number | null;
  /** Chromium's CPU time per tile (all its processes: the workers, wasm threads, SwiftShader), medians */
  forwardCpuMsPerTile: number;
  pipelinedCpuMsPerTile: number;
  /** pipelined CPU time over forward-alone CPU time, minus one (median of the rounds' ratios): what decoding and
   *  preprocessing cost in CPU */
  cpuOverheadPct: number;
  /** decode and preprocess ms per tile in the decode worker (pipelined runs, median) */
  decodeMsPerTile: number;
  preprocessMsPerTile: number;
  maxAbsDiff: number | null;
  loadAvg: string;
  headline: boolean;
}

type BenchApi = {
  open(spec: BenchSessionSpec): Promise<BenchSessionInfo>;
  endToEnd(ahead?: number): Promise<PipelineTimes>;
  forwardOnly(): Promise<{ wallMs: number; forwardMs: number; maxAbsDiffToEndToEnd: number | null }>;
  close(): void;
};

/** Calls the page's bench hook (the function runs in the page, so it names the hook itself). */
function inPage<M extends keyof BenchApi>(page: Page, method: M, arg?: Parameters<BenchApi[M]>[0]): Promise<Awaited<ReturnType<BenchApi[M]>>> {
  return page.evaluate(
    ([name, value]) => {
      const api = (window as unknown as { __cipherpathExtractionBench: Record<string, (v: unknown) => unknown> }).__cipherpathExtractionBench;
      return api[name as string]?.(value);
    },
    [method, arg] as const,
  ) as Promise<Awaited<ReturnType<BenchApi[M]>>>;
}

async function measureRow(page: Page, m: Measurement, tileUrls: string[]): Promise<ExtractionRow> {
  const spec: BenchSessionSpec = { modelUrl: m.modelUrl, backend: m.backend, batchSize: m.batch, tileUrls: tileUrls.slice(0, m.tiles), ...(m.threads ? { wasmThreads: m.threads } : {}) };
  const info = await inPage(page, 'open', spec);
  const load = [loadavg()[0] as number];
  await inPage(page, 'endToEnd'); // warm-up: kernels compile on the first forward pass
  const forward: number[] = [];
  const pipelined: PipelineTimes[] = [];
  const serial: number[] = [];
  const cpu = { forward: [] as number[], pipelined: [] as number[] };
  let maxAbsDiff: number | null = null;
  const cpuOf = async (into: number[], work: () => Promise<void>) => {
    const before = descendantsCpuMs(process.pid);
    await work();
    into.push(descendantsCpuMs(process.pid) - before);
  };
  const variants = [
    () =>
      cpuOf(cpu.forward, async () => {
        const r = await inPage(page, 'forwardOnly');
        forward.push(r.wallMs);
        if (r.maxAbsDiffToEndToEnd !== null) maxAbsDiff = Math.max(maxAbsDiff ?? 0, r.maxAbsDiffToEndToEnd);
      }),
    () =>
      cpuOf(cpu.pipelined, async () => {
        pipelined.push(await inPage(page, 'endToEnd'));
      }),
    ...(m.headline ? [async () => void serial.push((await inPage(page, 'endToEnd', 0)).wallMs)] : []),
  ];
  for (let round = 0; round < m.rounds; round++) {
    for (let k = 0; k < variants.length; k++) await (variants[(round + k) % variants.length] as () => Promise<void>)();
    load.push(loadavg()[0] as number);
  }
  await inPage(page, 'close');
  const perS = (ms: number) => Number(((m.tiles * 1000) / ms).toFixed(m.model === 'tiny' ? 1 : 3));
  const forwardMs = median(forward);
  const pipelinedMs = median(pipelined.map((p) => p.wallMs));
  const serialMs = serial.length ? median(serial) : null;
  return {
    suite: 'extraction-browser',
    model: m.model,
    backend: info.backend,
    threads: info.wasmThreads,
    batch: info.batchSize,
    tiles: m.tiles,
    rounds: m.rounds,
    forwardTilesPerS: perS(forwardMs),
    pipelinedTilesPerS: perS(pipelinedMs),
    serialTilesPerS: serialMs === null ? null : perS(serialMs),
    overheadPct: overheadOf(pipelined.map((p) => p.wallMs), forward),
    serialOverheadPct: serial.length ? overheadOf(serial, forward) : null,
    forwardCpuMsPerTile: Number((median(cpu.forward) / m.tiles).toFixed(2)),
    pipelinedCpuMsPerTile: Number((median(cpu.pipelined) / m.tiles).toFixed(2)),
    cpuOverheadPct: overheadOf(cpu.pipelined, cpu.forward),
    decodeMsPerTile: Number((median(pipelined.map((p) => p.decodeMs)) / m.tiles).toFixed(2)),
    preprocessMsPerTile: Number((median(pipelined.map((p) => p.preprocessMs)) / m.tiles).toFixed(2)),
    maxAbsDiff,
    loadAvg: `${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`,
    headline: m.headline ?? false,
  };
}

export async function run(): Promise<{ rows: ExtractionRow[] } & Record<string, unknown>> {
  const { dir: spaDir, setup } = await servableSnapshot();
  const measurements = plan();
  const names = writeTiles(join(spaDir, 'bench-tiles'), Math.max(...measurements.map((m) => m.tiles)));
  const tileUrls = names.map((n) => `/bench-tiles/${n}`);
  const rows: ExtractionRow[] = [];
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  let browserVersion: string;
  try {
    const coordinator = await startEmbeddedCoordinator({ env: { STATIC_DIR: spaDir } });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    browserVersion = browser.version();
    try {
      for (const m of measurements) {
        const context = await browser.newContext();
        const page = await context.newPage();
        page.on('pageerror', (e) => process.stderr.write(`[extraction-browser] page error: ${e.message}\n`));
        await page.addInitScript(() => {
          (window as unknown as { __cipherpathBench: boolean }).__cipherpathBench = true;
        });
        const started = performance.now();
        try {
          await page.goto(`${coordinator.url}/benchmark`);
          await page.waitForFunction(() => '__cipherpathExtractionBench' in window);
          rows.push(await measureRow(page, m, tileUrls));
        } finally {
          await context.close();
        }
        process.stderr.write(`[extraction-browser] ${m.model} ${m.backend}${m.threads ? ` ${m.threads}t` : ''} batch ${m.batch}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      }
    } finally {
      await browser.close();
      await coordinator.close();
    }
  } finally {
    rmSync(dirname(spaDir), { recursive: true, force: true });
  }
  const headline = (model: string) => rows.find((r) => r.headline && r.model === model && r.threads === 2);
  return {
    browser: `Chromium ${browserVersion} headless`,
    cores: CORES,
    /** os.loadavg() (1, 5, 15 min) when the suite started and ended; each row has its 1-minute range */
    loadAverage: { start: loadAtStart, end: loadavg().map((l) => Number(l.toFixed(2))) },
    tiles: `${TILE_SIZE} px JPEG (seeded, quality 90), preprocessed to the model's input size`,
    /** wasm 2 threads, default batch: pipelined end-to-end wall time over forward-alone wall time, minus one */
    overheadPctVitB16: headline('vit-b16')?.overheadPct ?? null,
    overheadPctTiny: headline('tiny')?.overheadPct ?? null,
    /** the same in Chromium's CPU time (load-insensitive: what decoding and preprocessing cost beside the model) */
    cpuOverheadPctVitB16: headline('vit-b16')?.cpuOverheadPct ?? null,
    cpuOverheadPctTiny: headline('tiny')?.cpuOverheadPct ?? null,
    defaultBatchSizes: DEFAULT_BATCH_SIZE,
    setup,
    rows,
  };
}

if (import.meta.main) {
  const { rows, ...summary } = await run();
  console.log(summary);
  console.table(rows);
}
