// [CLS] extraction for any set of tiles, shared by the Slides page and the demo: tokens already in src/vit's
// IndexedDB cache are reused, the rest go through the ViT worker a few tiles at a time, and each finished chunk is
// cached at once, so a reload in the middle loses at most one chunk of work.
import type { InitResult } from '../../vit/worker-protocol.ts';
import { getManyCachedTokens, putCachedTokens } from '../../vit/token-cache.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';
import { backendChain } from './url-params.ts';
import { vitWorker } from '../workers.ts';
import { currentModelChoice, type ModelChoice, modelChoiceKey } from './model-choice.ts';

/** Tiles per worker call: small enough that a reload loses little, large enough to batch on a GPU. */
const CHUNK = 4;
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
  load(): Promise<{ rgba: Uint8ClampedArray; width: number; height: number }>;
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
  for (let at = 0; at < missing.length; at += CHUNK) {
    if (cb.signal?.aborted) throw new DOMException('extraction cancelled', 'AbortError');
    const chunk = missing.slice(at, at + CHUNK);
    const images = await Promise.all(chunk.map((c) => c.load()));
    const tokens = await vitWorker().embed(
      images.map((im) => ({ rgba: im.rgba, width: im.width, height: im.height })),
      (p) => {
        const done = computed + p.done;
        const perTile = (performance.now() - started) / Math.max(1, done);
        cb.onProgress?.({ done: reused + done, total, etaMs: perTile * (missing.length - done), reused });
      },
      cb.signal,
    );
    for (const [k, item] of chunk.entries()) {
      const token = tokens[k];
      if (!token) throw new Error(`the ViT returned ${tokens.length} tokens for ${chunk.length} tiles`);
      await putCachedTokens(item.id, init.modelSha256, token);
      cb.onToken?.(item.id, token);
    }
    computed += chunk.length;
  }
  cb.onProgress?.({ done: total, total, etaMs: 0, reused });
  return { init, reused, computed };
}
