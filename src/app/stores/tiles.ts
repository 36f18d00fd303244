// Tiles this clinic has loaded and the [CLS] token extracted from each, with the backend that computed them.
import { create } from 'zustand';
import type { BackendChoice } from '../../vit/backend.ts';
import { decodeTile, type DecodedTile } from '../lib/files.ts';
import { backendChain, type BackendName } from '../lib/url-params.ts';
import { vitWorker } from '../workers.ts';

export const DEFAULT_MODEL_URL = '/models/tiny/';

export interface Tile extends DecodedTile {
  label: string | null;
}

export interface ExtractProgress {
  done: number;
  total: number;
  etaMs: number;
}

interface TilesState {
  tiles: Tile[];
  tokens: Float32Array[] | null;
  backend: BackendChoice | null;
  modelSha256: string | null;
  progress: ExtractProgress | null;
  busy: string | null;
  error: string | null;
  loadSampleSet(set: number): Promise<void>;
  extract(forcedBackend: BackendName | undefined): Promise<void>;
  cancel(): void;
}

interface SampleIndex {
  classes: string[];
  tiles: { path: string; label: string }[];
}

let running: AbortController | null = null;

export const useTiles = create<TilesState>()((set, get) => ({
  tiles: [],
  tokens: null,
  backend: null,
  modelSha256: null,
  progress: null,
  busy: null,
  error: null,
  async loadSampleSet(sampleSet) {
    set({ busy: 'Loading sample tiles…', error: null });
    try {
      const index = (await (await fetch('/samples/index.json')).json()) as SampleIndex;
      // Set k takes the k-th tile of every class, so each simulated clinic sees every class but different tiles.
      const picked = index.classes.map((cls) => index.tiles.filter((t) => t.label === cls)[sampleSet - 1]).filter((t) => t !== undefined);
      const tiles = await Promise.all(
        picked.map(async (t) => {
          const response = await fetch(`/samples/${t.path}`);
          if (!response.ok) throw new Error(`sample ${t.path} is missing (${response.status})`);
          return { ...(await decodeTile(t.path, await response.blob())), label: t.label };
        }),
      );
      set({ tiles, tokens: null, busy: null });
    } catch (e) {
      set({ busy: null, error: `Could not load the sample tiles: ${(e as Error).message}` });
    }
  },
  async extract(forcedBackend) {
    const { tiles } = get();
    if (tiles.length === 0) return;
    running?.abort();
    const controller = new AbortController();
    running = controller;
    set({ busy: 'Starting the ViT…', error: null, progress: { done: 0, total: tiles.length, etaMs: 0 } });
    try {
      const vit = vitWorker();
      const init = await vit.init({ modelUrl: DEFAULT_MODEL_URL, allow: backendChain(forcedBackend), allowSoftwareGpu: forcedBackend !== undefined });
      set({ backend: init.backend, modelSha256: init.modelSha256, busy: 'Extracting [CLS] tokens…' });
      const tokens = await vit.embed(
        // The worker takes ownership of the pixel buffers it is sent, so it gets copies and the tiles stay intact.
        tiles.map((t) => ({ rgba: t.rgba.slice(), width: t.width, height: t.height })),
        (p) => set({ progress: p }),
        controller.signal,
      );
      set({ tokens, busy: null, progress: { done: tiles.length, total: tiles.length, etaMs: 0 } });
    } catch (e) {
      const aborted = controller.signal.aborted;
      set({ busy: null, progress: null, error: aborted ? 'Extraction cancelled.' : `Extraction failed: ${(e as Error).message}` });
    } finally {
      if (running === controller) running = null;
    }
  },
  cancel() {
    running?.abort();
  },
}));
