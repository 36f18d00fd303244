// Bench suite `slide`: per test slide (SVS-like, JPEG tiles of 240 px YCbCr and 256 px in a BigTIFF, written by
// scripts/make-test-slides.ts), the open time, the level-0 tile decode rate, tissue detection time, and the
// extraction rate (grid tile read + resize + tiny ViT on tfjs wasm, the Node backend), with the process's peak RSS.
// Each extraction is timed end to end and as the forward pass alone on the same tiles read beforehand: the
// difference is what reading, decoding and resizing cost beside the model (issue 17's overhead, target <= 10% for a
// real model), for the tiny model and for a ViT-B/16-shaped fp16 model (seeded random weights).
// The ViT-B/16 row is also timed through NodeEmbedPool (what `npm run slide -- embed` runs) at 1 thread and at every
// core: tfjs has no wasm threads under Node, so worker threads are where Node's cores come from (issue 17, point 4).
// The browser backends (WebGPU, threaded wasm) are measured by the vit-browser suite. Run alone: node bench/slide.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlideFile } from '../src/slide/open-node.ts';
import { readGridTile, tileGrid } from '../src/slide/tiling.ts';
import { detectTissue } from '../src/slide/tissue.ts';
import type { Slide } from '../src/slide/slide.ts';
import type { GridTile } from '../src/slide/tiling.ts';
import type { ImageProcessorConfig } from '../src/vit/config.ts';
import { embedRgbaImages } from '../src/vit/extract.ts';
import { VitModel } from '../src/vit/model.ts';
import { NodeEmbedPool } from '../src/vit/node-embed-pool.ts';
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

/**
 * End to end (read, decode, resize, forward) and forward alone on the same tiles, `batch` at a time, after a warm-up
 * batch: `repeats` alternating pairs, medians of each (the machine is shared; alternating spreads its noise over both).
 */
async function extractionTimes(slide: Slide, tiles: readonly GridTile[], model: VitModel, processor: ImageProcessorConfig, batch: number, repeats: number): Promise<{ endToEndMs: number; forwardMs: number }> {
  const read = (part: readonly GridTile[]) => Promise.all(part.map((t) => readGridTile(slide, t, processor.size)));
  await embedRgbaImages(model, processor, await read(tiles.slice(0, batch)), batch);
  const images = await read(tiles);
  const endToEnd: number[] = [];
  const forward: number[] = [];
  for (let r = 0; r < repeats; r++) {
    endToEnd.push(
      (
        await timed(async () => {
          for (let start = 0; start < tiles.length; start += batch) await embedRgbaImages(model, processor, await read(tiles.slice(start, start + batch)), batch);
        })
      )[1],
    );
    forward.push(
      (
        await timed(async () => {
          for (let start = 0; start < images.length; start += batch) await embedRgbaImages(model, processor, images.slice(start, start + batch), batch);
        })
      )[1],
    );
  }
  return { endToEndMs: median(endToEnd), forwardMs: median(forward) };
}

/**
 * `npm run slide -- embed`'s path (tiles read while NodeEmbedPool embeds earlier batches) at 1 thread and at every
 * core, on the same tiles: `repeats` alternating pairs after a warm-up, medians.
 */
async function poolThreadRow(folder: string, path: string, tiles: readonly GridTile[], size: number, repeats: number): Promise<object> {
  const { slide } = await openSlideFile(path, 4);
  const cores = availableParallelism();
  const pools = [await NodeEmbedPool.start(folder, 1), await NodeEmbedPool.start(folder, cores)];
  try {
    const embed = (pool: NodeEmbedPool) => pool.embedEach(tiles.length, (i) => readGridTile(slide, tiles[i]!, size), 4);
    for (const pool of pools) await pool.embed([await readGridTile(slide, tiles[0]!, size)], 1);
    const ms: number[][] = [[], []];
    for (let r = 0; r < repeats; r++) for (const [i, pool] of pools.entries()) ms[i]!.push((await timed(() => embed(pool)))[1]);
    const [one, all] = ms.map(median) as [number, number];
    return {
      slide: `${path.split('/').pop() ?? path} (ViT-B/16, npm run slide -- embed)`,
      extractTiles: tiles.length,
      extractBackend: `wasm (Node worker threads, 1 vs ${cores})`,
      extractModel: `ViT-B/16 fp16 ${size}px, batch 4`,
      poolTilesPerS1Thread: tiles.length / (one / 1000),
      [`poolTilesPerS${cores}Threads`]: tiles.length / (all / 1000),
      poolThreadSpeedup: Number((one / all).toFixed(2)),
    };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

/** The same measurement with a ViT-B/16-shaped fp16 model at 224 px, 0.5 µm/px, on (up to 16) tissue tiles in batches of 8. */
async function vitB16SlideRows(dir: string, path: string): Promise<object[]> {
  const folder = join(dir, 'vit-b16');
  const made = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'make-tiny-model.ts'), '--preset', 'vit-b16', '--out', folder, '--dtype', 'f16'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  const { config, processor, weights } = await readModelDir(folder);
  const model = VitModel.create(config, weights);
  try {
    const { slide } = await openSlideFile(path, 4);
    const tiles = tileGrid(slide, await detectTissue(slide), { size: processor.size }).tiles.slice(0, 16);
    const times = await extractionTimes(slide, tiles, model, processor, 8, 3);
    const single = {
      slide: `${path.split('/').pop() ?? path} (ViT-B/16)`,
      extractTiles: tiles.length,
      extractBackend: 'wasm (Node, 1 thread)',
      extractModel: `ViT-B/16 fp16 ${processor.size}px`,
      extractTilesPerS: tiles.length / (times.endToEndMs / 1000),
      forwardAloneTilesPerS: tiles.length / (times.forwardMs / 1000),
      extractOverheadPct: overheadPct(times),
    };
    model.dispose();
    return [single, await poolThreadRow(folder, path, tiles, processor.size, 3)];
  } finally {
    model.dispose();
  }
}

const overheadPct = (t: { endToEndMs: number; forwardMs: number }): number => Number((((t.endToEndMs - t.forwardMs) / t.forwardMs) * 100).toFixed(1));

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
      const extract = await extractionTimes(slide, tiles, model, processor, 32, 3);
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
        extractTilesPerS: tiles.length / (extract.endToEndMs / 1000),
        forwardAloneTilesPerS: tiles.length / (extract.forwardMs / 1000),
        extractOverheadPct: overheadPct(extract),
      });
    }
    rows.push(...(await vitB16SlideRows(dir, join(dir, 'svs-ycbcr.svs'))));
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
