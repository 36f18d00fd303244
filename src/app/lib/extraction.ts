// [CLS] extraction for any set of tiles, shared by the Slides page and the demo: tokens already in src/vit's
// IndexedDB cache are reused, the rest go through a pipeline (pipeline.ts) in which the decode worker reads and
// preprocesses batch k+1 (and k+2) while the ViT worker runs batch k, so this thread only passes Blobs and
// transferred buffers along. Each finished batch is cached at once, so a reload in the middle loses at most one
// batch of work.
import type { VitWorkerClient } from '../../vit/client.ts';
import type { RgbaImage } from '../../vit/extract.ts';
import type { InitResult } from '../../vit/worker-protocol.ts';
import { getManyCachedTokens, putCachedTokens } from '../../vit/token-cache.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';
import { backendChain } from './url-params.ts';
import { tilePrepWorker, vitWorker } from '../workers.ts';
import { currentModelChoice, type ModelChoice, modelChoiceKey } from './model-choice.ts';
import { runPipeline } from './pipeline.ts';
import type { TilePrepClient } from './tile-prep-client.ts';
import type { TileSource } from './tile-prep.ts';

/** Batches decoded and preprocessed ahead of the forward pass: enough to hide a slow tile, few enough to bound memory. */
export const PIPELINE_AHEAD = 2;
const MODEL_KEY = 'cipherpath-model-sha256';

/** The model identity of the last extraction in this browser (the token cache's key), before the ViT is loaded. */
export function knownModelSha256(): string | null {
  return localStorage.getItem(MODEL_KEY);
}

/** Records the chosen model's identity (Settings does this when the model changes). */
export function rememberModelSha256(modelSha256: string): void {
  localStorage.setItem(MODEL_KEY, modelSha256);
}

export interface ExtractionItem {
  id: string;
  /** The tile's file (decoded in the decode worker, never on this thread), or pixels already decoded. */
  load(): Promise<{ name: string; blob: Blob } | RgbaImage>;
}

export interface ExtractionProgress {
  done: number;
  total: number;
  etaMs: number;
  reused: number;
}

export interface ExtractionCallbacks {
  onInit?(init: InitResult): void;
  onProgress?(progress: ExtractionProgress): void;
  onToken?(id: string, token: Float32Array): void;
  signal?: AbortSignal;
}

/** Where each stage's time went, summed over the batches (the stages overlap, so these add up to more than wallMs). */
export interface PipelineTimes {
  wallMs: number;
  decodeMs: number;
  preprocessMs: number;
  forwardMs: number;
  batches: number;
}

export interface PipelineRun {
  vit: VitWorkerClient;
  prep: TilePrepClient;
  init: Pick<InitResult, 'processor' | 'batchSize'>;
  /** Default PIPELINE_AHEAD; 0 runs decode, forward and caching strictly one after another. */
  ahead?: number;
  signal?: AbortSignal | undefined;
  /** The tokens of one batch, in order, as soon as its forward pass ended (batches arrive in order). */
  onBatch(items: readonly ExtractionItem[], tokens: Float32Array[]): Promise<void> | void;
}

/** Tokens of `items` (no cache) through the decode worker and the ViT worker, `init.batchSize` tiles per batch. */
export async function embedPipelined(items: readonly ExtractionItem[], run: PipelineRun): Promise<PipelineTimes> {
  const batches: ExtractionItem[][] = [];
  for (let at = 0; at < items.length; at += run.init.batchSize) batches.push(items.slice(at, at + run.init.batchSize));
  const times: PipelineTimes = { wallMs: 0, decodeMs: 0, preprocessMs: 0, forwardMs: 0, batches: batches.length };
  const started = performance.now();
  await runPipeline(
    batches,
    {
      prepare: async (batch, _index, signal) => {
        const sources = await Promise.all(batch.map(async (item): Promise<TileSource> => ({ name: `tile ${item.id.slice(0, 12)}`, ...(await item.load()) })));
        const prepared = await run.prep.prepare(sources, run.init.processor, signal);
        times.decodeMs += prepared.decodeMs;
        times.preprocessMs += prepared.preprocessMs;
        return prepared;
      },
      run: async (prepared, batch, _index, signal) => {
        const { tokens, forwardMs } = await run.vit.embedPixels(prepared.pixels, prepared.count, signal);
        if (tokens.length !== batch.length) throw new Error(`the ViT returned ${tokens.length} tokens for ${batch.length} tiles`);
        times.forwardMs += forwardMs;
        return tokens;
      },
      finish: (tokens, batch) => run.onBatch(batch, tokens),
    },
    { ahead: run.ahead ?? PIPELINE_AHEAD, signal: run.signal },
  );
  times.wallMs = performance.now() - started;
  return times;
}

const inits = new Map<string, Promise<InitResult>>();

/** Loads the chosen model once per backend and model choice (the worker keeps it). */
export async function initVit(forcedBackend: BackendName | undefined, choice?: ModelChoice): Promise<InitResult> {
  const model = choice ?? (await currentModelChoice());
  const key = `${forcedBackend ?? 'auto'}|${modelChoiceKey(model)}`;
  let pending = inits.get(key);
  if (!pending) {
    inits.clear(); // the worker holds one model; a different choice replaces it
    pending = vitWorker().init({
      ...(model.kind === 'url' ? { modelUrl: model.url } : { modelFiles: model.files }),
      allow: backendChain(forcedBackend),
      allowSoftwareGpu: forcedBackend !== undefined,
    });
    pending.catch(() => inits.delete(key));
    inits.set(key, pending);
  }
  return pending;
}

export async function extractTokens(items: readonly ExtractionItem[], forcedBackend: BackendName | undefined, cb: ExtractionCallbacks = {}): Promise<{ init: InitResult; reused: number; computed: number }> {
  const init = await initVit(forcedBackend);
  rememberModelSha256(init.modelSha256);
  cb.onInit?.(init);
  const cached = await getManyCachedTokens(
    items.map((i) => i.id),
    init.modelSha256,
  );
  const missing: ExtractionItem[] = [];
  let reused = 0;
  items.forEach((item, k) => {
    const token = cached[k];
    if (token) {
      reused++;
      cb.onToken?.(item.id, token);
    } else missing.push(item);
  });
  const total = items.length;
  cb.onProgress?.({ done: reused, total, etaMs: 0, reused });
  const started = performance.now();
  let computed = 0;
  await embedPipelined(missing, {
    vit: vitWorker(),
    prep: tilePrepWorker(),
    init,
    signal: cb.signal,
    onBatch: async (batch, tokens) => {
      for (const [k, item] of batch.entries()) {
        const token = tokens[k] as Float32Array;
        await putCachedTokens(item.id, init.modelSha256, token);
        cb.onToken?.(item.id, token);
      }
      computed += batch.length;
      const perTile = (performance.now() - started) / computed;
      cb.onProgress?.({ done: reused + computed, total, etaMs: perTile * (missing.length - computed), reused });
    },
  });
  cb.onProgress?.({ done: total, total, etaMs: 0, reused });
  return { init, reused, computed };
}
