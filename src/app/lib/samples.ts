// The bundled sample tiles (public/samples, LC25000 lung layout), decoded, for the demo and the privacy check.
import { decodeTile, type DecodedTile } from './files.ts';
import type { ClassLabel } from '../../protocol/vocabulary.ts';
import { isClassLabel } from './labels.ts';

export interface SampleTile extends DecodedTile {
  path: string;
  label: ClassLabel;
  /** 1-based position within its class (the demo deals tiles to clinics by it). */
  index: number;
}

export async function loadSamples(): Promise<SampleTile[]> {
  const response = await fetch('/samples/index.json');
  if (!response.ok) throw new Error(`the sample index answered ${response.status}`);
  const index = (await response.json()) as { tiles: { path: string; label: string }[] };
  const seen = new Map<string, number>();
  return Promise.all(
    index.tiles.map(async (t) => {
      if (!isClassLabel(t.label)) throw new Error(`sample ${t.path} has an unknown label "${t.label}"`);
      const k = (seen.get(t.label) ?? 0) + 1;
      seen.set(t.label, k);
      const r = await fetch(`/samples/${t.path}`);
      if (!r.ok) throw new Error(`sample ${t.path} answered ${r.status}`);
      return { ...(await decodeTile(t.path, await r.blob())), path: t.path, label: t.label, index: k };
    }),
  );
}
