// The clinic's tile library (persisted in IndexedDB, see lib/tile-db.ts) and the [CLS] token of each tile (src/vit's
// token cache), with extraction progress, the backend in use and per-file import messages.
import { create } from 'zustand';
import { formatBytes } from '../../common/format-bytes.ts';
import type { ClassLabel } from '../../protocol/vocabulary.ts';
import type { BackendChoice } from '../../vit/backend.ts';
import { getManyCachedTokens } from '../../vit/token-cache.ts';
import { type ExtractionProgress, extractTokens, knownModelSha256 } from '../lib/extraction.ts';
import { checkTileSize, decodeTile, thumbnail } from '../lib/files.ts';
import { baseName, labelFromPath, MAX_CSV_BYTES, parseLabelCsv } from '../lib/labels.ts';
import { allTiles, deleteTiles, getTileFile, putTiles, setLabels, type StoredTile } from '../lib/tile-db.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';

export const MAX_FILES_PER_IMPORT = 2000;
export const MAX_LIBRARY_TILES = 10000;
const RUNNING_KEY = 'cipherpath-extraction-running';

export type TileView = Omit<StoredTile, 'file' | 'thumb'> & { thumbUrl: string };
export type TileStatus = 'pending' | 'queued' | 'done';

export interface ImportSource {
  path: string;
  blob: Blob;
}

export interface Rejection {
  file: string;
  reason: string;
}

interface TilesState {
  hydrated: boolean;
  tiles: TileView[];
  tokens: Record<string, Float32Array>;
  queued: ReadonlySet<string>;
  backend: BackendChoice | null;
  modelSha256: string | null;
  progress: ExtractionProgress | null;
  importing: { done: number; total: number } | null;
  rejected: Rejection[];
  notices: string[];
  /** Set when the page was reloaded while an extraction ran. */
  interrupted: { total: number } | null;
  busy: string | null;
  error: string | null;
  hydrate(): Promise<void>;
  /** Shows the tokens cached for another model (after the model changed in Settings); the others are recomputed. */
  switchModel(modelSha256: string): Promise<void>;
  importFiles(sources: readonly ImportSource[]): Promise<void>;
  loadSampleSet(set: number): Promise<void>;
  extract(forcedBackend: BackendName | undefined): Promise<void>;
  cancel(): void;
  removeAll(): Promise<void>;
  dismissMessages(): void;
}

interface SampleIndex {
  classes: string[];
  tiles: { path: string; label: string }[];
}

const toView = (t: StoredTile): TileView => {
  const { file: _file, thumb, ...meta } = t;
  return { ...meta, thumbUrl: URL.createObjectURL(thumb) };
};

/** Every tile's token in library order, or null while any tile still lacks one. */
export function orderedTokens(tiles: readonly TileView[], tokens: Record<string, Float32Array>): Float32Array[] | null {
  if (tiles.length === 0) return null;
  const out: Float32Array[] = [];
  for (const t of tiles) {
    const token = tokens[t.id];
    if (!token) return null;
    out.push(token);
  }
  return out;
}

export function tileStatus(state: Pick<TilesState, 'tokens' | 'queued'>, id: string): TileStatus {
  if (state.tokens[id]) return 'done';
  return state.queued.has(id) ? 'queued' : 'pending';
}

let running: AbortController | null = null;

/** A library tile's file, for the extraction pipeline to decode in its worker. */
async function storedFile(id: string): Promise<{ name: string; blob: Blob }> {
  const stored = await getTileFile(id);
  if (!stored) throw new Error(`tile ${id.slice(0, 12)} is no longer in the library`);
  return { name: stored.path, blob: stored.file };
}

export const useTiles = create<TilesState>()((set, get) => ({
  hydrated: false,
  tiles: [],
  tokens: {},
  queued: new Set(),
  backend: null,
  modelSha256: null,
  progress: null,
  importing: null,
  rejected: [],
  notices: [],
  interrupted: null,
  busy: null,
  error: null,
  async switchModel(modelSha256) {
    const { tiles } = get();
    const cached = tiles.length ? await getManyCachedTokens(
      tiles.map((t) => t.id),
      modelSha256,
    ) : [];
    set({ modelSha256, tokens: Object.fromEntries(tiles.flatMap((t, k) => (cached[k] ? [[t.id, cached[k]]] : []))) });
  },
  async hydrate() {
    if (get().hydrated) return;
    try {
      const stored = await allTiles();
      const modelSha256 = knownModelSha256();
      const tokens: Record<string, Float32Array> = {};
      if (modelSha256 && stored.length) {
        const cached = await getManyCachedTokens(
          stored.map((t) => t.id),
          modelSha256,
        );
        stored.forEach((t, k) => {
          const token = cached[k];
          if (token) tokens[t.id] = token;
        });
      }
      const running = localStorage.getItem(RUNNING_KEY);
      const interrupted = running ? (JSON.parse(running) as { total: number }) : null;
      // Tiles imported during hydration (a fast click) are kept: merge rather than replace.
      set((s) => ({
        hydrated: true,
        tiles: [...stored.filter((t) => !s.tiles.some((v) => v.id === t.id)).map(toView), ...s.tiles],
        tokens: { ...tokens, ...s.tokens },
        modelSha256: s.modelSha256 ?? modelSha256,
        interrupted: interrupted && Object.keys(tokens).length < stored.length ? interrupted : null,
      }));
      if (interrupted && Object.keys(tokens).length >= stored.length) localStorage.removeItem(RUNNING_KEY);
    } catch (e) {
      set({ hydrated: true, error: `The tile library could not be opened: ${(e as Error).message}. Tiles you add now are kept only until a reload.` });
    }
  },
  async importFiles(sources) {
    const csvs = sources.filter((s) => s.path.toLowerCase().endsWith('.csv'));
    let images = sources.filter((s) => !s.path.toLowerCase().endsWith('.csv'));
    const rejected: Rejection[] = [];
    const notices: string[] = [];
    if (images.length > MAX_FILES_PER_IMPORT) {
      notices.push(`${images.length} files were given; at most ${MAX_FILES_PER_IMPORT} are imported at once. The first ${MAX_FILES_PER_IMPORT} were taken; add the rest in another import.`);
      images = images.slice(0, MAX_FILES_PER_IMPORT);
    }
    const room = MAX_LIBRARY_TILES - get().tiles.length;
    if (images.length > room) {
      notices.push(`The library holds at most ${MAX_LIBRARY_TILES} tiles; ${images.length - Math.max(0, room)} file(s) were not imported. Remove tiles first.`);
      images = images.slice(0, Math.max(0, room));
    }
    const csvLabels = new Map<string, ClassLabel>();
    for (const csv of csvs) {
      if (csv.blob.size > MAX_CSV_BYTES) {
        rejected.push({ file: csv.path, reason: `${baseName(csv.path)} is ${formatBytes(csv.blob.size)}; label CSVs are capped at ${formatBytes(MAX_CSV_BYTES)}` });
        continue;
      }
      const parsed = parseLabelCsv(await csv.blob.text(), baseName(csv.path));
      for (const [name, label] of parsed.labels) csvLabels.set(name, label);
      rejected.push(...parsed.problems.map((reason) => ({ file: csv.path, reason })));
      notices.push(`${baseName(csv.path)}: ${parsed.labels.size} label(s) read.`);
    }
    set({ importing: { done: 0, total: images.length }, busy: images.length ? `Reading ${images.length} file(s)…` : null, error: null });
    const known = new Set(get().tiles.map((t) => t.id));
    const added: StoredTile[] = [];
    let duplicates = 0;
    let done = 0;
    const addedAt = Date.now();
    const work = images.map((source, order) => async () => {
      const name = baseName(source.path);
      try {
        checkTileSize(name, source.blob.size);
        const decoded = await decodeTile(name, source.blob);
        if (known.has(decoded.sha256)) {
          duplicates++;
          return;
        }
        known.add(decoded.sha256);
        added.push({
          id: decoded.sha256,
          name,
          path: source.path,
          label: csvLabels.get(name) ?? labelFromPath(source.path),
          format: decoded.format,
          width: decoded.width,
          height: decoded.height,
          size: source.blob.size,
          addedAt: addedAt + order,
          file: source.blob,
          thumb: await thumbnail(decoded),
        });
      } catch (e) {
        rejected.push({ file: source.path, reason: (e as Error).message });
      } finally {
        done++;
        set({ importing: { done, total: images.length } });
      }
    });
    // A few files at a time: decoding is async but memory-hungry for large tiles.
    const lanes = Array.from({ length: 4 }, async () => {
      for (let job = work.shift(); job; job = work.shift()) await job();
    });
    await Promise.all(lanes);
    added.sort((a, b) => a.addedAt - b.addedAt);
    try {
      await putTiles(added);
      if (csvLabels.size) await setLabels(new Map(get().tiles.filter((t) => csvLabels.has(t.name)).map((t) => [t.id, csvLabels.get(t.name) as ClassLabel])));
    } catch (e) {
      set({ error: `Tiles were read but could not be saved in this browser (${(e as Error).message}); they will be lost on reload. Free some disk space and import again.` });
    }
    if (duplicates) notices.push(`${duplicates} file(s) were already in the library and were skipped.`);
    const tokensAlready = await getManyCachedTokens(
      added.map((t) => t.id),
      get().modelSha256 ?? knownModelSha256() ?? '',
    ).catch(() => []);
    set((s) => ({
      tiles: [...s.tiles.map((t) => (csvLabels.has(t.name) ? { ...t, label: csvLabels.get(t.name) as ClassLabel } : t)), ...added.map(toView)],
      tokens: { ...s.tokens, ...Object.fromEntries(added.flatMap((t, k) => (tokensAlready[k] ? [[t.id, tokensAlready[k]]] : []))) },
      importing: null,
      busy: null,
      rejected: [...s.rejected, ...rejected],
      notices: [...s.notices, ...notices],
    }));
  },
  async loadSampleSet(sampleSet) {
    set({ busy: 'Loading sample tiles…', error: null });
    try {
      const response = await fetch('/samples/index.json');
      if (!response.ok) throw new Error(`the sample index is missing (${response.status})`);
      const index = (await response.json()) as SampleIndex;
      // Set k takes the k-th tile of every class, so each clinic sees every class but different tiles.
      const picked = index.classes.map((cls) => index.tiles.filter((t) => t.label === cls)[sampleSet - 1]).filter((t) => t !== undefined);
      const sources = await Promise.all(
        picked.map(async (t) => {
          const r = await fetch(`/samples/${t.path}`);
          if (!r.ok) throw new Error(`sample ${t.path} is missing (${r.status})`);
          return { path: t.path, blob: await r.blob() };
        }),
      );
      await get().importFiles(sources);
    } catch (e) {
      set({ busy: null, error: `Could not load the sample tiles: ${(e as Error).message}. Reload the page and try again.` });
    }
  },
  async extract(forcedBackend) {
    const { tiles } = get();
    if (tiles.length === 0) return;
    running?.abort();
    const controller = new AbortController();
    running = controller;
    const todo = tiles.filter((t) => !get().tokens[t.id]);
    localStorage.setItem(RUNNING_KEY, JSON.stringify({ total: tiles.length }));
    set({ busy: 'Starting the ViT…', error: null, interrupted: null, queued: new Set(todo.map((t) => t.id)), progress: { done: tiles.length - todo.length, total: tiles.length, etaMs: 0, reused: 0 } });
    try {
      await extractTokens(
        tiles.map((t) => ({ id: t.id, load: () => storedFile(t.id) })),
        forcedBackend,
        {
          signal: controller.signal,
          onInit: (init) => {
            set({ backend: init.backend, modelSha256: init.modelSha256, busy: 'Extracting [CLS] tokens…' });
          },
          onProgress: (progress) => set({ progress }),
          onToken: (id, token) =>
            set((s) => {
              const queued = new Set(s.queued);
              queued.delete(id);
              return { tokens: { ...s.tokens, [id]: token }, queued };
            }),
        },
      );
      set({ busy: null });
    } catch (e) {
      const aborted = controller.signal.aborted;
      set({
        busy: null,
        progress: null,
        error: aborted ? 'Extraction cancelled. Tokens computed so far are kept; press Extract to continue.' : `Extraction failed: ${(e as Error).message}. Try another backend in Settings or reload the page.`,
      });
    } finally {
      if (running === controller) {
        running = null;
        localStorage.removeItem(RUNNING_KEY);
        set({ queued: new Set() });
      }
    }
  },
  cancel() {
    running?.abort();
  },
  async removeAll() {
    running?.abort();
    for (const t of get().tiles) URL.revokeObjectURL(t.thumbUrl);
    set({ tiles: [], tokens: {}, queued: new Set(), progress: null, rejected: [], notices: [], interrupted: null });
    try {
      await deleteTiles('all');
    } catch (e) {
      set({ error: `Could not remove the stored tiles: ${(e as Error).message}` });
    }
  },
  dismissMessages() {
    set({ rejected: [], notices: [] });
  },
}));
