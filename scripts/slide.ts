// Whole-slide images from the command line, on the same reader as the browser (src/slide).
//
//   npm run slide -- info <file> [--json]
//   npm run slide -- region <file> --level <n> --x <x> --y <y> --width <w> --height <h> --out <png>
//       (x, y in level-0 pixels, as OpenSlide's read_region)
//   npm run slide -- tiles <file> [--mpp 0.5] [--size 224] [--min-tissue 0.5] [--threshold <0-255>] [--slide-mpp <µm/px>] [--json]
//       (--threshold: the tissue mask's saturation threshold, Otsu's when absent)
//   npm run slide -- embed <file> --model <dir> [--limit n] [--mpp 0.5] [--min-tissue 0.5] [--slide-mpp <µm/px>] [--threads n] --json
//       (tiles are read and decoded while earlier batches run on the worker threads; default: every core)
//
// A file that cannot be read exits with code 2 and a message naming it; bad arguments exit 2 with the usage.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { slideFingerprint } from '../src/slide/fingerprint.ts';
import { SlideError } from '../src/slide/formats.ts';
import { openSlideFile } from '../src/slide/open-node.ts';
import { DEFAULT_TILING, readGridTile, tileGrid } from '../src/slide/tiling.ts';
import { detectTissue } from '../src/slide/tissue.ts';
import { defaultEmbedThreads, NodeEmbedPool } from '../src/vit/node-embed-pool.ts';

const USAGE = `usage: npm run slide -- info <file> [--json]
       npm run slide -- region <file> --level <n> --x <x> --y <y> --width <w> --height <h> --out <png>
       npm run slide -- tiles <file> [--mpp 0.5] [--size 224] [--min-tissue 0.5] [--threshold <0-255>] [--slide-mpp <µm/px>] [--json]
       npm run slide -- embed <file> --model <dir> [--limit n] [--mpp 0.5] [--min-tissue 0.5] [--slide-mpp <µm/px>] [--threads n] --json`;

class UsageError extends Error {}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        level: { type: 'string' },
        x: { type: 'string' },
        y: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        out: { type: 'string' },
        mpp: { type: 'string' },
        size: { type: 'string' },
        'min-tissue': { type: 'string' },
        threshold: { type: 'string' },
        'slide-mpp': { type: 'string' },
        model: { type: 'string' },
        limit: { type: 'string' },
        batch: { type: 'string', default: '8' },
        threads: { type: 'string' },
      },
    });
  } catch (error) {
    process.stderr.write(`slide: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();

function number(name: keyof typeof values, fallback?: number): number {
  const raw = values[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(raw)}"`);
  return n;
}

async function tiling(file: string, defaultSize: number = DEFAULT_TILING.size): Promise<{ opened: Awaited<ReturnType<typeof openSlideFile>>; grid: ReturnType<typeof tileGrid>; mask: Awaited<ReturnType<typeof detectTissue>> }> {
  const opened = await openSlideFile(file);
  const threshold = values.threshold === undefined ? undefined : number('threshold');
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 255)) throw new UsageError(`--threshold must be a saturation from 0 to 255, got ${threshold}`);
  const mask = await detectTissue(opened.slide, threshold === undefined ? {} : { threshold });
  const slideMpp = values['slide-mpp'] === undefined ? undefined : number('slide-mpp');
  const grid = tileGrid(opened.slide, mask, {
    mpp: number('mpp', DEFAULT_TILING.mpp),
    size: number('size', defaultSize),
    minTissue: number('min-tissue', DEFAULT_TILING.minTissue),
    ...(slideMpp ? { mppOverride: slideMpp } : {}),
  });
  return { opened, grid, mask };
}

async function main(): Promise<void> {
  const [command, file] = positionals;
  if (!command || !file || !['info', 'region', 'tiles', 'embed'].includes(command)) throw new UsageError('a command and a file are required');
  if (command === 'info') {
    const { slide, head } = await openSlideFile(file);
    const info = { ...slide.info, fingerprint: await slideFingerprint(slide, head) };
    if (values.json) {
      console.log(JSON.stringify(info));
      return;
    }
    console.log(`${info.file}: ${info.vendor}, ${info.width} x ${info.height} px, ${info.mpp ? `${info.mpp.x} x ${info.mpp.y} µm/px (${info.mppSource})` : 'no MPP in the file'}, objective ${info.objectivePower ?? 'unknown'}`);
    info.levels.forEach((l, i) => console.log(`  level ${i}: ${l.width} x ${l.height}, downsample ${l.downsample}, tiles ${l.tileWidth} x ${l.tileHeight}`));
    for (const a of info.associated) console.log(`  associated ${a.name}: ${a.width} x ${a.height}`);
    console.log(`  fingerprint ${info.fingerprint}`);
    return;
  }
  if (command === 'region') {
    if (!values.out) throw new UsageError('--out <png> is required');
    const { slide } = await openSlideFile(file);
    const region = await slide.readRegion(number('level'), number('x'), number('y'), number('width'), number('height'));
    const png = new PNG({ width: region.width, height: region.height });
    png.data = Buffer.from(region.rgba.buffer, region.rgba.byteOffset, region.rgba.byteLength);
    writeFileSync(values.out, PNG.sync.write(png));
    return;
  }
  if (command === 'tiles') {
    const { opened, grid, mask } = await tiling(file);
    const summary = { file: opened.slide.info.file, mpp: grid.mpp, size: grid.size, size0: grid.size0, columns: grid.columns, rows: grid.rows, mask: { width: mask.width, height: mask.height, threshold: mask.threshold, tissueFraction: mask.tissueFraction }, count: grid.tiles.length };
    if (values.json) console.log(JSON.stringify({ ...summary, tiles: grid.tiles.map(({ x, y, size0 }) => ({ x, y, size0 })) }));
    else console.log(`${summary.file}: ${summary.count} tissue tiles of ${grid.size} px at ${grid.mpp} µm/px (${grid.size0} px at level 0) in a ${grid.columns} x ${grid.rows} grid; tissue ${(mask.tissueFraction * 100).toFixed(1)}% of the slide (${values.threshold === undefined ? 'Otsu threshold' : 'threshold'} ${mask.threshold})`);
    return;
  }
  if (!values.model) throw new UsageError('embed needs --model <dir>');
  if (!values.json) throw new UsageError('embed prints tokens as JSON: pass --json');
  const threads = number('threads', defaultEmbedThreads());
  const batch = number('batch');
  const pool = await NodeEmbedPool.start(values.model, threads);
  try {
    // tiles are cut at the model's input size unless --size says otherwise (then they are resized by the preprocessor)
    const { opened, grid } = await tiling(file, pool.model.processor.size);
    const limit = values.limit === undefined ? grid.tiles.length : number('limit');
    const tiles = grid.tiles.slice(0, limit);
    const tokens = await pool.embedEach(tiles.length, (i) => readGridTile(opened.slide, tiles[i]!, grid.size), batch);
    console.log(
      JSON.stringify({
        file: opened.slide.info.file,
        fingerprint: await slideFingerprint(opened.slide, opened.head),
        model: { dir: values.model, modelSha256: pool.model.modelSha256 },
        // every thread runs tfjs-backend-wasm single-threaded (tfjs has no wasm threads under Node)
        backend: 'wasm',
        threads,
        mpp: grid.mpp,
        tiles: tiles.map(({ x, y, size0 }, i) => ({ x, y, size0, token: Array.from(tokens[i] ?? []) })),
      }),
    );
  } finally {
    await pool.close();
  }
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`slide: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`slide: ${(error as Error).message}\n`);
  process.exit(error instanceof SlideError ? 2 : 1);
}
