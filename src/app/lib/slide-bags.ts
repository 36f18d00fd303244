// Slides as bags of tile tokens for slide-level learning: every library slide with a label and tokens stored for the
// given model becomes one bag (its tiles' [CLS] tokens and their level-0 coordinates). Read from this browser's
// IndexedDB (lib/slide-db.ts) only; nothing here touches the slide file or the network.
import type { ClassLabel } from '../../protocol/vocabulary.ts';
import { rememberedSlides, slideTokensForModel, type StoredSlide, type StoredSlideToken } from './slide-db.ts';

/** One labelled slide as src/fl's slide-level rounds take it (declared here until src/fl exports its own). */
export interface LiveSlide {
  /** the slide's fingerprint */
  id: string;
  name: string;
  tokens: Float32Array[];
  /** level-0 coordinates of each token's tile, in the same order */
  tiles: { x: number; y: number; size0: number }[];
  label: ClassLabel;
}

/**
 * The slide's bag from its stored tokens (one model). A slide extracted at several tile sizes is one bag of one size:
 * the size of its last tiling when tokens exist for it, else the size with the most tokens. Null without tokens.
 */
export function bagFromTokens(slide: StoredSlide & { label: ClassLabel }, stored: readonly StoredSlideToken[]): LiveSlide | null {
  const bySize = new Map<number, StoredSlideToken[]>();
  for (const t of stored) {
    const group = bySize.get(t.size0);
    if (group) group.push(t);
    else bySize.set(t.size0, [t]);
  }
  const preferred = slide.grid ? bySize.get(slide.grid.size0) : undefined;
  const chosen = preferred ?? [...bySize.values()].sort((a, b) => b.length - a.length || (a[0]?.size0 ?? 0) - (b[0]?.size0 ?? 0))[0];
  if (!chosen?.length) return null;
  const tiles = [...chosen].sort((a, b) => a.y - b.y || a.x - b.x);
  return { id: slide.fingerprint, name: slide.name, label: slide.label, tokens: tiles.map((t) => t.token), tiles: tiles.map(({ x, y, size0 }) => ({ x, y, size0 })) };
}

const isLabelled = (slide: StoredSlide): slide is StoredSlide & { label: ClassLabel } => slide.label !== undefined && slide.label !== null;

/** Every library slide with a label and tokens stored for `modelSha256`, as bags; the most recently used first. */
export async function loadSlideBags(modelSha256: string): Promise<LiveSlide[]> {
  const bags: LiveSlide[] = [];
  for (const slide of (await rememberedSlides()).filter(isLabelled)) {
    const bag = bagFromTokens(slide, await slideTokensForModel(slide.fingerprint, modelSha256));
    if (bag) bags.push(bag);
  }
  return bags;
}
