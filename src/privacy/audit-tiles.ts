// Node-only inputs of the audit: the bundled sample tiles (the victims), the attacker's own tiles (drawn by the same
// generator at indices the bundle never uses), and their [CLS] tokens from the real ViT code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLASS_LABELS } from '../protocol/vocabulary.ts';
import { embedRgbaImages } from '../vit/extract.ts';
import { VitModel } from '../vit/model.ts';
import { readModelDir } from '../vit/node-io.ts';
import { rgbaFromRgb, rgbFromRgba, type RgbImage } from './image.ts';
import { readPng } from './png.ts';
import { drawSampleTile, SAMPLE_TILE_SIZE } from './synthetic-tiles.ts';

export interface LabelledTile {
  /** Where it came from: a path under the samples folder, or `drawSampleTile(<class>, <index>)`. */
  readonly name: string;
  readonly label: string;
  readonly image: RgbImage;
}

/** Indices at or above this are never bundled (scripts/make-sample-tiles.ts writes indices 0..5), so attacker tiles are disjoint. */
export const ATTACKER_FIRST_INDEX = 100;

/** The tiles listed in `<samplesDir>/index.json`, in its order. */
export function readSampleTiles(samplesDir: string): LabelledTile[] {
  const indexPath = join(samplesDir, 'index.json');
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { tiles?: { path: string; label: string }[] };
  if (!Array.isArray(index.tiles) || index.tiles.length === 0) throw new Error(`${indexPath}: no "tiles" list`);
  return index.tiles.map(({ path, label }) => ({ name: path, label, image: readPng(join(samplesDir, path)) }));
}

/** `perClass` tiles of every sample class, drawn at indices ATTACKER_FIRST_INDEX + offset + 0.. (class-interleaved). */
export function drawAttackerTiles(perClass: number, offset = 0): LabelledTile[] {
  const tiles: LabelledTile[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const cls of CLASS_LABELS) {
      const index = ATTACKER_FIRST_INDEX + offset + i;
      tiles.push({ name: `drawSampleTile(${cls}, ${index})`, label: cls, image: rgbFromRgba(SAMPLE_TILE_SIZE, SAMPLE_TILE_SIZE, drawSampleTile(cls, index)) });
    }
  }
  return tiles;
}

/** The [CLS] token of every image under the model in `modelDir` (the app's preprocessing and forward pass). */
export async function clsTokens(modelDir: string, images: readonly RgbImage[]): Promise<Float32Array[]> {
  const { config, processor, weights } = await readModelDir(modelDir);
  const model = VitModel.create(config, weights);
  try {
    const rgba = images.map((image) => ({ rgba: rgbaFromRgb(image), width: image.width, height: image.height }));
    return await embedRgbaImages(model, processor, rgba, 32);
  } finally {
    model.dispose();
  }
}
