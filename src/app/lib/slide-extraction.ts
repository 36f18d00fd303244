// Extraction at slide scale: the grid tiles of the open slide are read and decoded by the slide workers at the model's
// input size (slidePool().gridTile), sent to the ViT worker a batch at a time, and each batch's tokens are stored
// (lib/slide-db.ts) before the next is embedded, so a reload loses at most one batch and a new run embeds only the
// tiles not stored yet. The next batch is decoded while the current one runs on the ViT. Tile pixels stay in memory.
import type { BackendName } from '../../protocol/vocabulary.ts';
import type { RgbaRegion } from '../../slide/slide.ts';
import type { GridTile } from '../../slide/tiling.ts';
import { slidePool, vitWorker } from '../workers.ts';
import { initVit, rememberModelSha256 } from './extraction.ts';
import { putSlideTokens, type StoredSlideToken, storedTileKeys, tileKey } from './slide-db.ts';

/** Tiles per ViT call: enough to batch on a GPU, few enough that a reload loses little. */
export const SLIDE_BATCH = 16;

export interface SlideExtractionProgress {
  /** tiles whose token is stored (reused + computed) */
  done: number;
  total: number;
  /** tokens found stored when the run started */
  reused: number;
  /** tokens embedded by this run */
  computed: number;
  /** ViT calls made by this run */
  batches: number;
  etaMs: number;
}

export interface SlideExtractionJob {
  fingerprint: string;
  tiles: readonly Pick<GridTile, 'x' | 'y' | 'size0'>[];
  /** the model's input size: the tiles are decoded at it */
  size: number;
  forcedBackend: BackendName | undefined;
  signal: AbortSignal;
  /** resolves at once unless the user paused; checked between batches */
  whenRunning(): Promise<void>;
  onProgress(progress: SlideExtractionProgress): void;
}

export interface SlideExtractionResult {
  modelSha256: string;
  backend: BackendName;
  progress: SlideExtractionProgress;
}

export async function extractSlide(job: SlideExtractionJob): Promise<SlideExtractionResult> {
  const { fingerprint, tiles, size, signal } = job;
  const init = await initVit(job.forcedBackend);
  rememberModelSha256(init.modelSha256);
  const size0 = tiles[0]?.size0 ?? 0;
  const stored = await storedTileKeys(fingerprint, init.modelSha256, size0);
  const missing = tiles.filter((t) => !stored.has(tileKey(t.x, t.y)));
  const progress: SlideExtractionProgress = { done: tiles.length - missing.length, total: tiles.length, reused: tiles.length - missing.length, computed: 0, batches: 0, etaMs: 0 };
  job.onProgress({ ...progress });
  const decode = (at: number): Promise<RgbaRegion[]> => Promise.all(missing.slice(at, at + SLIDE_BATCH).map((tile) => slidePool().gridTile({ tile: { x: tile.x, y: tile.y, size0: tile.size0 }, size }, signal)));
  let started = performance.now();
  let next = missing.length ? decode(0) : null;
  next?.catch(() => undefined); // awaited below; a cancel must not surface as an unhandled rejection
  for (let at = 0; at < missing.length; at += SLIDE_BATCH) {
    await job.whenRunning();
    signal.throwIfAborted();
    if (progress.computed === 0) started = performance.now(); // ETA from embedding time, not from a pause
    const images = await (next as Promise<RgbaRegion[]>);
    next = at + SLIDE_BATCH < missing.length ? decode(at + SLIDE_BATCH) : null;
    next?.catch(() => undefined);
    const batch = missing.slice(at, at + SLIDE_BATCH);
    const tokens = await vitWorker().embed(
      images.map((im) => ({ rgba: im.rgba, width: im.width, height: im.height })),
      undefined,
      signal,
    );
    if (tokens.length !== batch.length) throw new Error(`the ViT returned ${tokens.length} tokens for ${batch.length} tiles`);
    const records: StoredSlideToken[] = batch.map((t, k) => ({ fingerprint, modelSha256: init.modelSha256, x: t.x, y: t.y, size0: t.size0, token: tokens[k] as Float32Array }));
    await putSlideTokens(records);
    progress.batches++;
    progress.computed += batch.length;
    progress.done += batch.length;
    const perTile = (performance.now() - started) / progress.computed;
    progress.etaMs = perTile * (missing.length - progress.computed);
    job.onProgress({ ...progress });
  }
  progress.etaMs = 0;
  return { modelSha256: init.modelSha256, backend: init.backend.backend, progress };
}
