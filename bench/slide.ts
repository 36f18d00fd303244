// Bench suite `slide`: per test slide (SVS-like, JPEG tiles of 240 px YCbCr and 256 px in a BigTIFF, written by
// scripts/make-test-slides.ts), the open time, the level-0 tile decode rate, tissue detection time, and the
// extraction rate (grid tile read + resize + tiny ViT on tfjs wasm, the Node backend), with the process's peak RSS.
// The browser backends (WebGPU, threaded wasm) are measured by the vit-browser suite. Run alone: node bench/slide.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlideFile } from '../src/slide/open-node.ts';
import { readGridTile, tileGrid } from '../src/slide/tiling.ts';
import { detectTissue } from '../src/slide/tissue.ts';
import { embedRgbaImages } from '../src/vit/extract.ts';
import { VitModel } from '../src/vit/model.ts';
import { readModelDir, useNodeWasmBackend } from '../src/vit/node-io.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
let peakRss = 0;
const sample = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  sample();
  return [result, performance.now() - started];
}

export async function run(): Promise<{ rows: object[] } & Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-slide-'));
  const root = join(import.meta.dirname, '..');
  const made = spawnSync(process.execPath, [join(root, 'scripts', 'make-test-slides.ts'), dir, '--only', 'svs-ycbcr,svs-bigtiff'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  await useNodeWasmBackend();
  const { config, processor, weights } = await readModelDir(join(root, 'public', 'models', 'tiny'));
  const model = VitModel.create(config, weights);
  const rows: object[] = [];
  const ticker = setInterval(sample, 20);
  try {
    for (const name of ['svs-ycbcr.svs', 'svs-bigtiff.svs']) {
      const path = join(dir, name);
      const opens: number[] = [];
      for (let i = 0; i < 5; i++) opens.push((await timed(() => openSlideFile(path)))[1]);
      const { slide } = await openSlideFile(path, 4);
      const level = slide.info.levels[0]!;
      const columns = Math.ceil(level.width / level.tileWidth);
      const rowsOfTiles = Math.ceil(level.height / level.tileHeight);
      const [, decodeMs] = await timed(async () => {
        for (let r = 0; r < rowsOfTiles; r++) for (let c = 0; c < columns; c++) await slide.readTile(0, c, r);
      });
      const [mask, tissueMs] = await timed(() => detectTissue(slide));
      const grid = tileGrid(slide, mask, { size: processor.size });
      const tiles = grid.tiles.slice(0, 256);
      const [, extractMs] = await timed(async () => {
        for (let start = 0; start < tiles.length; start += 32) {
          const images = await Promise.all(tiles.slice(start, start + 32).map((t) => readGridTile(slide, t, processor.size)));
          await embedRgbaImages(model, processor, images, 32);
        }
      });
      rows.push({
        slide: name,
        levelSize: `${slide.info.width}x${slide.info.height}`,
        tilePx: level.tileWidth,
        jpeg: name.includes('bigtiff') ? 'YCbCr Q80 BigTIFF' : 'YCbCr Q70',
        openMsMedian: median(opens),
        tilesDecoded: columns * rowsOfTiles,
        decodeTilesPerS: (columns * rowsOfTiles) / (decodeMs / 1000),
        tissueMs,
        tissueFraction: mask.tissueFraction,
        extractTiles: tiles.length,
        extractBackend: 'wasm (Node)',
        extractModel: `tiny ${processor.size}px`,
        extractTilesPerS: tiles.length / (extractMs / 1000),
      });
    }
  } finally {
    clearInterval(ticker);
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  // the machine is shared: the load average says how far the figures are from an idle machine's
  return { peakRssMiB: Math.round(peakRss / 2 ** 20), loadAverage1m: Number(loadavg()[0]?.toFixed(1)), rows };
}

if (import.meta.main) {
  const result = await run();
  console.table(result.rows);
  console.log(`peak RSS ${String(result.peakRssMiB)} MiB`);
}
