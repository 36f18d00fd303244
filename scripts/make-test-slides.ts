// Writes the test slides the reader is checked against, the way scanners and libvips write them: Aperio-like SVS files
// (JPEG tiles in YCbCr below quality 90 and RGB above, or JPEG 2000 tiles tagged 33003/33005, a stripped thumbnail, label and macro, the Aperio
// ImageDescription set with tiffset), an SVS-like BigTIFF, and generic pyramidal TIFFs (JPEG, LZW, Deflate, zstd,
// WebP, and one with OME-style SubIFDs). The tissue is the project's synthetic H&E (src/privacy/synthetic-tiles.ts),
// drawn from fixed seeds, so every run writes the same pixels and the committed OpenSlide fixtures
// (src/slide/fixtures, from scripts/slide-reference.py) stay valid.
//
// Usage: npm run make-test-slides -- <out-dir> [--big] [--only svs-ycbcr,generic-lzw,...]
//   --big also writes big.svs, 40,000 x 30,000 px (several hundred MB), for the browser end-to-end test.
//   --only writes just the named slides (the CLI test needs one).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { mulberry32 } from '../src/common/mulberry32.ts';
import { drawSampleTile } from '../src/privacy/synthetic-tiles.ts';
import { CLASS_LABELS } from '../src/protocol/vocabulary.ts';
import { assembleTiff, type AssemblyPart, unmarkJpegRgb } from './tiff-assemble.ts';

/** Level-0 size of the small test slides: 16 x 12 tiles of 240 px. */
export const TEST_SLIDE_WIDTH = 3840;
export const TEST_SLIDE_HEIGHT = 2880;
const TEXTURE = 256;

/** RGB pixels of a synthetic slide: near-white glass with a few irregular tissue pieces of H&E texture. */
function drawSlide(width: number, height: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  const textures = CLASS_LABELS.flatMap((cls) => [0, 1, 2].map((i) => drawSampleTile(cls, 100 + i, TEXTURE)));
  const blobs = Array.from({ length: 5 }, () => ({
    cx: (0.15 + 0.7 * rand()) * width,
    cy: (0.2 + 0.6 * rand()) * height,
    rx: (0.08 + 0.12 * rand()) * width,
    ry: (0.08 + 0.14 * rand()) * height,
    phase: rand() * Math.PI * 2,
    texture: Math.floor(rand() * textures.length),
  }));
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let texture = -1;
      for (const b of blobs) {
        const dx = (x - b.cx) / b.rx;
        const dy = (y - b.cy) / b.ry;
        const wobble = 1 + 0.12 * Math.sin(5 * Math.atan2(dy, dx) + b.phase);
        if (dx * dx + dy * dy < wobble * wobble) texture = b.texture;
      }
      if (texture < 0) {
        const grain = ((x * 7919 + y * 104729) % 7) - 3;
        out[o] = 243 + grain;
        out[o + 1] = 241 + grain;
        out[o + 2] = 244 + grain;
        continue;
      }
      const source = textures[texture] as Uint8Array;
      const t = ((y % TEXTURE) * TEXTURE + (x % TEXTURE)) * 4;
      out[o] = source[t] ?? 0;
      out[o + 1] = source[t + 1] ?? 0;
      out[o + 2] = source[t + 2] ?? 0;
    }
  }
  return out;
}

function writePng(path: string, width: number, height: number, rgb: Buffer): void {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = rgb[i * 3] ?? 0;
    png.data[i * 4 + 1] = rgb[i * 3 + 1] ?? 0;
    png.data[i * 4 + 2] = rgb[i * 3 + 2] ?? 0;
    png.data[i * 4 + 3] = 255;
  }
  writeFileSync(path, PNG.sync.write(png, { colorType: 2 }));
}

/** A label: barcode-like bars on white, the kind of image that may carry a patient identifier. */
function drawLabel(width: number, height: number): Buffer {
  const rand = mulberry32(7);
  const bars = Array.from({ length: width }, () => (rand() < 0.45 ? 20 : 250));
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.fill(y > height * 0.2 && y < height * 0.6 ? (bars[x] ?? 250) : 250, (y * width + x) * 3, (y * width + x) * 3 + 3);
  return out;
}

function vips(...args: string[]): void {
  execFileSync('vips', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

const APERIO_HEADER = 'Aperio Image Library v12.0.16';

interface SvsOptions {
  name: string;
  /** JPEG (the common case), or JPEG 2000 tiles tagged as Aperio writes them: 33003 YCbCr components, 33005 RGB */
  codec?: 'jpeg' | 33003 | 33005;
  quality: number;
  tile: number;
  bigTiff: boolean;
  mpp: number;
  appMag: number;
}

/** An Aperio-layout slide: level 0, thumbnail, levels at downsample 4 and 16, label, macro. */
async function writeSvs(dir: string, source: string, width: number, height: number, o: SvsOptions): Promise<string> {
  const work = join(dir, `${o.name}.parts`);
  mkdirSync(work, { recursive: true });
  const codec = o.codec ?? 'jpeg';
  // libvips writes JPEG 2000 tiles as bare codestreams of YCbCr components (Aperio's layout for 33003); it tags them
  // 33004, so the assembled slide is retagged below. Tagged 33005 the same codestreams read as RGB components: the
  // colours are then wrong, but OpenSlide reads them the same way, which is what the 33005 fixture checks.
  const tiled = (input: string, out: string): void =>
    vips('tiffsave', input, out, '--tile', '--tile-width', String(o.tile), '--tile-height', String(o.tile), '--compression', codec === 'jpeg' ? 'jpeg' : 'jp2k', '--Q', String(o.quality));
  const level0 = join(work, 'level0.tif');
  tiled(source, level0);
  // Aperio's RGB tiles carry component IDs 1,2,3 like YCbCr ones: colour must come from Photometric (as OpenSlide does)
  const patch = codec === 'jpeg' && o.quality >= 90 ? unmarkJpegRgb : undefined;
  const parts: AssemblyPart[] = [{ path: level0, newSubfileType: 0, patch }];
  const thumbnail = join(work, 'thumbnail.tif');
  vips('thumbnail', source, `${thumbnail}[compression=jpeg,Q=${o.quality}]`, '1024');
  parts.push({ path: thumbnail, newSubfileType: 0 });
  const descriptions = [`${APERIO_HEADER}\n${width}x${height} [0,0 ${width}x${height}] (${o.tile}x${o.tile}) ${codec === 'jpeg' ? `JPEG/${o.quality < 90 ? 'YCC' : 'RGB'}` : codec === 33003 ? 'J2K/YUV16' : 'J2K/KDU'} Q=${o.quality}|AppMag = ${o.appMag}|MPP = ${o.mpp}|Filename = ${o.name}`];
  descriptions.push(`${APERIO_HEADER}\n${width}x${height} -> 1024x${Math.round((1024 * height) / width)} - |AppMag = ${o.appMag}|MPP = ${o.mpp}`);
  for (const downsample of [4, 16]) {
    const small = join(work, `level-${downsample}.v`);
    vips('resize', source, small, String(1 / downsample));
    const out = join(work, `level-${downsample}.tif`);
    tiled(small, out);
    parts.push({ path: out, newSubfileType: 0, patch });
    descriptions.push(`${APERIO_HEADER}\n${width}x${height} -> ${Math.round(width / downsample)}x${Math.round(height / downsample)} - |AppMag = ${o.appMag}|MPP = ${o.mpp}`);
  }
  const labelPng = join(work, 'label.png');
  writePng(labelPng, 400, 300, drawLabel(400, 300));
  const label = join(work, 'label.tif');
  vips('tiffsave', labelPng, label, '--compression', 'lzw');
  parts.push({ path: label, newSubfileType: 1 });
  descriptions.push(`${APERIO_HEADER}\nlabel 400x300`);
  const macro = join(work, 'macro.tif');
  vips('thumbnail', source, `${macro}[compression=jpeg,Q=80]`, '1280');
  parts.push({ path: macro, newSubfileType: 9 });
  descriptions.push(`${APERIO_HEADER}\nmacro 1280x${Math.round((1280 * height) / width)}`);
  const out = join(dir, `${o.name}.svs`);
  await assembleTiff(parts, out, o.bigTiff);
  descriptions.forEach((description, d) => execFileSync('tiffset', ['-d', String(d), '-s', '270', description, out]));
  // the tiled levels are directories 0, 2 and 3 (1 is the thumbnail, 4 and 5 label and macro)
  if (codec !== 'jpeg') for (const d of [0, 2, 3]) execFileSync('tiffset', ['-d', String(d), '-s', '259', String(codec), out]);
  rmSync(work, { recursive: true, force: true });
  return out;
}

/** A generic pyramidal TIFF straight from libvips: levels halve until one tile; resolution in pixels/mm. */
function writeGeneric(dir: string, source: string, name: string, options: string[], mpp: number): string {
  const out = join(dir, `${name}.tif`);
  const pixelsPerMm = String(1000 / mpp);
  vips('tiffsave', source, out, '--tile', '--tile-width', '256', '--tile-height', '256', '--pyramid', '--xres', pixelsPerMm, '--yres', pixelsPerMm, '--resunit', 'cm', ...options);
  return out;
}

/** Writes every test slide into `dir` and returns their paths by name. */
export async function makeTestSlides(dir: string, big = false, only?: readonly string[]): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const source = join(dir, 'source.png');
  writePng(source, TEST_SLIDE_WIDTH, TEST_SLIDE_HEIGHT, drawSlide(TEST_SLIDE_WIDTH, TEST_SLIDE_HEIGHT, 13));
  const w = TEST_SLIDE_WIDTH;
  const h = TEST_SLIDE_HEIGHT;
  const writers: Record<string, () => Promise<string> | string> = {
    'svs-ycbcr': () => writeSvs(dir, source, w, h, { name: 'svs-ycbcr', quality: 70, tile: 240, bigTiff: false, mpp: 0.2527, appMag: 40 }),
    'svs-rgb': () => writeSvs(dir, source, w, h, { name: 'svs-rgb', quality: 95, tile: 240, bigTiff: false, mpp: 0.499, appMag: 20 }),
    'svs-bigtiff': () => writeSvs(dir, source, w, h, { name: 'svs-bigtiff', quality: 80, tile: 256, bigTiff: true, mpp: 0.2635, appMag: 40 }),
    'svs-j2k-ycbcr': () => writeSvs(dir, source, w, h, { name: 'svs-j2k-ycbcr', codec: 33003, quality: 70, tile: 240, bigTiff: false, mpp: 0.2527, appMag: 40 }),
    'svs-j2k-rgb': () => writeSvs(dir, source, w, h, { name: 'svs-j2k-rgb', codec: 33005, quality: 70, tile: 256, bigTiff: false, mpp: 0.499, appMag: 20 }),
    'generic-jpeg': () => writeGeneric(dir, source, 'generic-jpeg', ['--compression', 'jpeg', '--Q', '85'], 0.25),
    'generic-lzw': () => writeGeneric(dir, source, 'generic-lzw', ['--compression', 'lzw', '--predictor', 'horizontal'], 0.25),
    'generic-deflate': () => writeGeneric(dir, source, 'generic-deflate', ['--compression', 'deflate', '--predictor', 'horizontal'], 0.5),
    'generic-zstd': () => writeGeneric(dir, source, 'generic-zstd', ['--compression', 'zstd'], 0.25),
    'generic-webp': () => writeGeneric(dir, source, 'generic-webp', ['--compression', 'webp', '--lossless'], 0.25),
    'generic-subifd': () => writeGeneric(dir, source, 'generic-subifd', ['--compression', 'lzw', '--subifd'], 0.25),
  };
  const unknown = (only ?? []).filter((name) => !(name in writers));
  if (unknown.length) throw new Error(`unknown test slides: ${unknown.join(', ')} (known: ${Object.keys(writers).join(', ')})`);
  const slides: Record<string, string> = {};
  for (const [name, write] of Object.entries(writers)) if (!only || only.includes(name)) slides[name] = await write();
  if (big) {
    const bigSource = join(dir, 'big-source.v');
    vips('replicate', source, join(dir, 'big-replicated.v'), '11', '11');
    vips('crop', join(dir, 'big-replicated.v'), bigSource, '0', '0', '40000', '30000');
    rmSync(join(dir, 'big-replicated.v'));
    slides.big = await writeSvs(dir, bigSource, 40000, 30000, { name: 'big', quality: 70, tile: 240, bigTiff: false, mpp: 0.2527, appMag: 40 });
    rmSync(bigSource);
  }
  return slides;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { big: { type: 'boolean', default: false }, only: { type: 'string' } } });
  const dir = positionals[0];
  if (!dir) {
    process.stderr.write('usage: npm run make-test-slides -- <out-dir> [--big] [--only a,b]\n');
    process.exit(2);
  }
  const slides = await makeTestSlides(dir, values.big, values.only?.split(','));
  process.stdout.write(`${JSON.stringify(slides, null, 2)}\n`);
}
