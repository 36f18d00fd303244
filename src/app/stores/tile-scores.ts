// Per-tile results to draw on a slide as heatmaps: whatever produced a score for each tile of a slide (the local
// head or encrypted inference from the Inference page, an ABMIL model's attention or class scores, the demo) puts a
// layer here, and the viewer draws the layers of the slide it shows. Producers and the viewer never call each other:
// this store is the only thing they share. Layers live in memory only; the tokens they come from are in IndexedDB.
import { create } from 'zustand';

/** Where a layer's scores came from; one layer per source and slide (a new one replaces the old). */
export type TileScoreSource = 'local-head' | 'encrypted-inference' | 'abmil-attention' | 'abmil-class';

export interface TileScoreLayer {
  /** the slide's identity (src/slide's fingerprint) */
  fingerprint: string;
  source: TileScoreSource;
  /** the legend's title, e.g. "P(lung_scc), encrypted inference" */
  title: string;
  /** what the two ends of the colour scale mean, e.g. {low: '0', high: '1'} or {low: 'least attended', high: 'most'} */
  legend: { low: string; high: string };
  /** tiles in level-0 pixels: tile i covers [x, x + size0) × [y, y + size0) */
  tiles: readonly { x: number; y: number; size0: number }[];
  /** one score per tile, scaled to [0, 1] by the producer (the colour scale's ends) */
  values: Float32Array;
}

interface TileScoreState {
  layers: readonly TileScoreLayer[];
  /** Adds a layer, replacing the slide's earlier layer of the same source; throws when values and tiles differ in length. */
  put(layer: TileScoreLayer): void;
  /** Drops the slide's layers (of one source, or all of them). */
  drop(fingerprint: string, source?: TileScoreSource): void;
}

export const useTileScores = create<TileScoreState>()((set) => ({
  layers: [],
  put: (layer) => {
    if (layer.values.length !== layer.tiles.length) throw new Error(`tile-score layer "${layer.title}": ${layer.values.length} values for ${layer.tiles.length} tiles`);
    set((s) => ({ layers: [...s.layers.filter((l) => l.fingerprint !== layer.fingerprint || l.source !== layer.source), layer] }));
  },
  drop: (fingerprint, source) => set((s) => ({ layers: s.layers.filter((l) => l.fingerprint !== fingerprint || (source !== undefined && l.source !== source)) })),
}));

/** The layers of one slide, in the order they were put. */
export const layersOf = (layers: readonly TileScoreLayer[], fingerprint: string | null): TileScoreLayer[] => layers.filter((l) => l.fingerprint === fingerprint);
