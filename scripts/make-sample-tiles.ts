// Writes the bundled sample tiles: small synthetic H&E-like tiles in the LC25000 folder layout
// (lung_aca/, lung_n/, lung_scc/), drawn by src/privacy/synthetic-tiles.ts from fixed seeds, so the repo ships no
// patient data and the demo and the tests see the same pixels on every machine. Run: node scripts/make-sample-tiles.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { drawSampleTile, SAMPLE_TILE_SIZE } from '../src/privacy/synthetic-tiles.ts';
import { CLASS_LABELS, type ClassLabel } from '../src/protocol/vocabulary.ts';

const TILES_PER_CLASS = 6;

function writeTiles(root: string): void {
  const index: { path: string; label: ClassLabel }[] = [];
  for (const cls of CLASS_LABELS) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < TILES_PER_CLASS; i++) {
      const png = new PNG({ width: SAMPLE_TILE_SIZE, height: SAMPLE_TILE_SIZE });
      png.data = Buffer.from(drawSampleTile(cls, i));
      const name = `${cls}/${cls}_${i + 1}.png`;
      writeFileSync(join(root, name), PNG.sync.write(png));
      index.push({ path: name, label: cls });
    }
  }
  writeFileSync(join(root, 'index.json'), `${JSON.stringify({ classes: CLASS_LABELS, tiles: index }, null, 2)}\n`);
}

writeTiles(join(import.meta.dirname, '..', 'public', 'samples'));
