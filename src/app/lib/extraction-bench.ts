// Bench-only: when `window.__cipherpathBench = true` is set before the app starts (bench/extraction-browser.ts does
// it with Playwright's addInitScript), `window.__cipherpathExtractionBench` drives the real tile pipeline
// (extraction.ts) on fresh workers, so that end-to-end extraction (decode + preprocess + forward + caching) and the
// forward pass alone are timed in the same page, on the same tiles, in alternating runs. Without the flag nothing is
// exposed.
import { maxAbsDifference } from './benchmark.ts';
import { embedPipelined, type ExtractionItem, type PipelineTimes } from './extraction.ts';
import { backendChain } from './url-params.ts';
import type { VitWorkerClient } from '../../vit/client.ts';
import type { InitResult } from '../../vit/worker-protocol.ts';
import { putCachedTokens } from '../../vit/token-cache.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';
import type { TilePrepClient } from './tile-prep-client.ts';
import { newTilePrepWorker, newVitWorker } from '../workers.ts';

export interface BenchSessionSpec {
  modelUrl: string;
  backend: BackendName;
  wasmThreads?: number;
  batchSize?: number;
  /** Tile files on this server (the bench writes generated JPEG tiles next to the SPA). */
  tileUrls: string[];
}

export interface BenchSessionInfo {
  backend: string;
  wasmThreads: number | null;
  batchSize: number;
  imageSize: number;
  tiles: number;
  hardwareConcurrency: number;
}

interface Session {
  vit: VitWorkerClient;
  prep: TilePrepClient;
  init: InitResult;
  items: ExtractionItem[];
  /** Each batch's model input, prepared once for the forward-only runs (copied per run: a run transfers it away). */
  prepared: { pixels: Float32Array; count: number }[];
  endToEndTokens: Float32Array[];
  runs: number;
}

let session: Session | null = null;

function current(): Session {
  if (!session) throw new Error('open a bench session first');
  return session;
}

function close(): void {
  session?.vit.terminate();
  session?.prep.terminate();
  session = null;
}

async function open(spec: BenchSessionSpec): Promise<BenchSessionInfo> {
  close();
  const vit = newVitWorker('cipherpath-vit-extraction-bench');
  const prep = newTilePrepWorker();
  try {
    const init = await vit.init({ modelUrl: spec.modelUrl, allow: backendChain(spec.backend), allowSoftwareGpu: true, wasmThreads: spec.wasmThreads, batchSize: spec.batchSize });
    if (init.backend.backend !== spec.backend) throw new Error(`asked for ${spec.backend}, the worker runs ${init.backend.backend}: ${init.backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
    const items = await Promise.all(
      spec.tileUrls.map(async (url, i): Promise<ExtractionItem> => {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${url} answered ${response.status}`);
        const blob = await response.blob();
        return { id: `bench-tile-${i}`, load: async () => ({ name: url, blob }) };
      }),
    );
    const prepared: Session['prepared'] = [];
    for (let at = 0; at < items.length; at += init.batchSize) {
      const batch = await Promise.all(items.slice(at, at + init.batchSize).map(async (item) => item.load()));
      prepared.push(await prep.prepare(batch.map((b, k) => ({ name: `tile ${at + k}`, ...b })), init.processor));
    }
    session = { vit, prep, init, items, prepared, endToEndTokens: [], runs: 0 };
  } catch (error) {
    vit.terminate();
    prep.terminate();
    throw error;
  }
  const { init } = session;
  return { backend: init.backend.backend, wasmThreads: init.backend.wasmThreads ?? null, batchSize: init.batchSize, imageSize: init.config.image_size, tiles: session.items.length, hardwareConcurrency: navigator.hardwareConcurrency };
}

/** One extraction of every tile through the pipeline, tokens cached as the app caches them (under a per-run key). */
async function endToEnd(ahead?: number): Promise<PipelineTimes> {
  const s = current();
  const cacheKey = `bench-${s.init.modelSha256}-${++s.runs}`;
  const tokens: Float32Array[] = [];
  const times = await embedPipelined(s.items, {
    vit: s.vit,
    prep: s.prep,
    init: s.init,
    ahead,
    onBatch: async (batch, batchTokens) => {
      for (const [k, item] of batch.entries()) await putCachedTokens(item.id, cacheKey, batchTokens[k] as Float32Array);
      tokens.push(...batchTokens);
    },
  });
  s.endToEndTokens = tokens;
  return times;
}

/** The forward passes alone over the same batches, back to back; with the largest token difference from endToEnd. */
async function forwardOnly(): Promise<{ wallMs: number; forwardMs: number; maxAbsDiffToEndToEnd: number | null }> {
  const s = current();
  const inputs = s.prepared.map((p) => ({ pixels: p.pixels.slice(), count: p.count }));
  const tokens: Float32Array[] = [];
  let forwardMs = 0;
  const started = performance.now();
  for (const input of inputs) {
    const result = await s.vit.embedPixels(input.pixels, input.count);
    forwardMs += result.forwardMs;
    tokens.push(...result.tokens);
  }
  const wallMs = performance.now() - started;
  return { wallMs, forwardMs, maxAbsDiffToEndToEnd: s.endToEndTokens.length ? maxAbsDifference(tokens, s.endToEndTokens) : null };
}

interface BenchWindow {
  __cipherpathBench?: unknown;
  __cipherpathExtractionBench?: { open: typeof open; endToEnd: typeof endToEnd; forwardOnly: typeof forwardOnly; close: typeof close };
}

export function exposeExtractionBench(): void {
  const w = globalThis as BenchWindow;
  if (w.__cipherpathBench !== true) return;
  w.__cipherpathExtractionBench = { open, endToEnd, forwardOnly, close };
}
