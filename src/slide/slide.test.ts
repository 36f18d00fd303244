// The reader against OpenSlide: the test slides are written now by scripts/make-test-slides.ts (libvips, libtiff),
// and src/slide/fixtures holds what OpenSlide 3.4.1 reported for the same files (scripts/slide-reference.py).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../common/base64.ts';
import { slideFingerprint } from './fingerprint.ts';
import { openSlideFile } from './open-node.ts';
import { MissingObjectivePowerError, type RgbaRegion } from './slide.ts';
import { readGridTile, tileGrid } from './tiling.ts';
import { detectTissue, otsuThreshold } from './tissue.ts';

interface Fixture {
  file: string;
  properties: Record<string, string>;
  levels: { width: number; height: number; downsample: number }[];
  associated: Record<string, [number, number]>;
  regions: { level: number; x: number; y: number; width: number; height: number; rgba: string }[];
}

const fixtureDir = join(import.meta.dirname, 'fixtures');
const fixtures: Fixture[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(fixtureDir, f), 'utf8')) as Fixture);
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'slides-'));
  execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'make-test-slides.ts'), dir], { stdio: 'ignore' });
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mean absolute difference per RGB channel, and whether alpha agrees everywhere. */
function meanAbsDiff(a: Uint8ClampedArray | Uint8Array, b: Uint8ClampedArray | Uint8Array): { rgb: number[]; alphaEqual: boolean } {
  const sums = [0, 0, 0];
  let alphaEqual = true;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) sums[c] = (sums[c] ?? 0) + Math.abs((a[i + c] ?? 0) - (b[i + c] ?? 0));
    if (a[i + 3] !== b[i + 3]) alphaEqual = false;
  }
  return { rgb: sums.map((s) => s / (a.length / 4)), alphaEqual };
}

/** Mean of each RGB channel over a region. */
function meanRgb({ rgba }: RgbaRegion): number[] {
  const sums = [0, 0, 0];
  for (let i = 0; i < rgba.length; i += 4) for (let c = 0; c < 3; c++) sums[c] = (sums[c] ?? 0) + (rgba[i + c] ?? 0);
  return sums.map((s) => s / (rgba.length / 4));
}

describe('slide reader vs OpenSlide', () => {
  it('has fixtures for SVS YCbCr, SVS RGB, BigTIFF, Aperio JPEG 2000 (33003, 33005), generic JPEG, LZW and Deflate', () => {
    expect(fixtures.map((f) => f.file).sort()).toEqual(['generic-deflate.tif', 'generic-jpeg.tif', 'generic-lzw.tif', 'svs-bigtiff.svs', 'svs-j2k-rgb.svs', 'svs-j2k-ycbcr.svs', 'svs-rgb.svs', 'svs-ycbcr.svs']);
  });

  for (const fixture of fixtures) {
    it(`${fixture.file}: vendor, levels, MPP, associated images and regions at levels 0 and 1`, async () => {
      const { slide } = await openSlideFile(join(dir, fixture.file));
      const { info } = slide;
      expect(info.vendor).toBe(fixture.properties['openslide.vendor']);
      expect(info.levels.map(({ width, height, downsample }) => ({ width, height, downsample }))).toEqual(fixture.levels);
      expect(Object.fromEntries(info.associated.map((a) => [a.name, [a.width, a.height]]))).toEqual(fixture.associated);
      const osMpp = fixture.properties['openslide.mpp-x'];
      if (osMpp !== undefined) {
        expect(info.mpp?.x).toBeCloseTo(Number(osMpp), 9);
        expect(info.mpp?.y).toBeCloseTo(Number(fixture.properties['openslide.mpp-y']), 9);
        expect(info.mppSource).toBe('aperio-description');
        expect(info.objectivePower).toBe(Number(fixture.properties['openslide.objective-power']));
      } else {
        // OpenSlide 3.4.1 gives generic TIFFs no MPP, only the resolution tag, which is where ours comes from
        expect(fixture.properties['tiff.ResolutionUnit']).toBe('centimeter');
        expect(info.mpp?.x).toBeCloseTo(10_000 / Number(fixture.properties['tiff.XResolution']), 3);
        expect(info.mppSource).toBe('tiff-resolution');
      }
      for (const region of fixture.regions) {
        const ours = await slide.readRegion(region.level, region.x, region.y, region.width, region.height);
        const diff = meanAbsDiff(ours.rgba, fromBase64(region.rgba));
        expect(diff.alphaEqual).toBe(true);
        for (const d of diff.rgb) expect(d).toBeLessThanOrEqual(1);
      }
    });
  }

  // WebP tiles decode through createImageBitmap, which only browsers have; Node checks zstd and SubIFDs
  it('zstd and SubIFD pyramids read the same pixels and levels as the LZW one', async () => {
    const { slide: reference } = await openSlideFile(join(dir, 'generic-lzw.tif'));
    for (const name of ['generic-zstd.tif', 'generic-subifd.tif']) {
      const { slide } = await openSlideFile(join(dir, name));
      expect(slide.info.levels, name).toEqual(reference.info.levels);
      for (const level of [0, 1, 3]) {
        const a = await slide.readRegion(level, 1000, 1200, 300, 200);
        const b = await reference.readRegion(level, 1000, 1200, 300, 200);
        expect(Buffer.from(a.rgba).equals(Buffer.from(b.rgba)), `${name} level ${level}`).toBe(true);
      }
    }
  });

  it('regions beyond the edge are transparent, and levels are chosen by downsample and MPP', async () => {
    const { slide } = await openSlideFile(join(dir, 'svs-ycbcr.svs'));
    const edge = await slide.readRegion(0, 3840 - 10, 0, 20, 4);
    expect(edge.rgba[9 * 4 + 3]).toBe(255);
    expect(edge.rgba[10 * 4 + 3]).toBe(0);
    expect(slide.levelForDownsample(1)).toBe(0);
    expect(slide.levelForDownsample(3.9)).toBe(0);
    expect(slide.levelForDownsample(4)).toBe(1);
    expect(slide.levelForDownsample(100)).toBe(2);
    expect(slide.downsampleForMpp(0.5)).toBeCloseTo(0.5 / 0.2527, 9);
  });

  it('levels are chosen by magnification from the objective power, and a slide without one asks for it', async () => {
    // AppMag 40, levels at downsample 1, 4 and 16
    const { slide } = await openSlideFile(join(dir, 'svs-ycbcr.svs'));
    expect(slide.info.objectivePower).toBe(40);
    expect(slide.downsampleForMagnification(20)).toBe(2);
    expect(slide.levelForMagnification(40)).toBe(0);
    expect(slide.levelForMagnification(20)).toBe(0);
    expect(slide.levelForMagnification(10)).toBe(1);
    expect(slide.levelForMagnification(2.5)).toBe(2);
    expect(() => slide.levelForMagnification(0)).toThrow(RangeError);
    // no AppMag, levels at downsample 1, 2, 4, 8 and 16
    const { slide: generic } = await openSlideFile(join(dir, 'generic-lzw.tif'));
    expect(generic.info.objectivePower).toBeNull();
    expect(() => generic.levelForMagnification(20)).toThrow(MissingObjectivePowerError);
    expect(() => generic.levelForMagnification(20)).toThrow(/^generic-lzw\.tif: the slide does not state its objective power .*enter it/);
    expect(generic.levelForMagnification(20, 40)).toBe(1);
  });

  it('reads the SVS label, macro and thumbnail whole, at the sizes OpenSlide reports, with what was drawn into them', async () => {
    const fixture = fixtures.find((f) => f.file === 'svs-ycbcr.svs');
    expect(Object.keys(fixture?.associated ?? {}).sort()).toEqual(['label', 'macro', 'thumbnail']);
    const { slide } = await openSlideFile(join(dir, 'svs-ycbcr.svs'));
    const images = new Map<string, RgbaRegion>();
    for (const [name, [width, height]] of Object.entries(fixture?.associated ?? {})) {
      const image = await slide.readAssociated(name);
      expect([image.width, image.height, image.rgba.length], name).toEqual([width, height, width * height * 4]);
      expect(image.rgba.every((v, i) => i % 4 !== 3 || v === 255), name).toBe(true);
      images.set(name, image);
    }
    // the label is lossless (LZW): white margins, and a band of barcode bars of 20 and 250
    const label = images.get('label') as RgbaRegion;
    expect(label.rgba.subarray(0, label.width * 4).every((v) => v === 250 || v === 255)).toBe(true);
    const band = label.rgba.subarray(Math.floor(label.height * 0.4) * label.width * 4, Math.floor(label.height * 0.4 + 1) * label.width * 4);
    const dark = band.filter((v, i) => i % 4 === 0 && v === 20).length;
    const light = band.filter((v, i) => i % 4 === 0 && v === 250).length;
    expect(dark + light).toBe(label.width);
    expect(dark).toBeGreaterThan(label.width * 0.3);
    expect(light).toBeGreaterThan(label.width * 0.3);
    // the macro and the thumbnail are the whole slide (JPEG): glass in the corner, and the colour of the smallest level
    const whole = meanRgb(await slide.readRegion(2, 0, 0, 240, 180));
    for (const name of ['macro', 'thumbnail']) {
      const image = images.get(name) as RgbaRegion;
      expect(image.rgba[0], name).toBeGreaterThan(235);
      meanRgb(image).forEach((m, c) => expect(Math.abs(m - (whole[c] ?? 0)), `${name} channel ${c}`).toBeLessThan(1));
    }
    await expect(slide.readAssociated('overview')).rejects.toThrow(/no associated image "overview" \(it has: label, macro, thumbnail\)/);
  });

  it('a slide without a stated resolution asks for it instead of guessing', async () => {
    const path = join(dir, 'no-mpp.tif');
    execFileSync('vips', ['tiffsave', join(dir, 'source.png'), path, '--tile', '--pyramid', '--compression', 'jpeg']);
    const { slide } = await openSlideFile(path);
    expect(slide.info.mpp).toBeNull();
    expect(() => slide.downsampleForMpp(0.5)).toThrow(/does not state its resolution/);
    expect(slide.downsampleForMpp(0.5, 0.25)).toBe(2);
  });

  it('refuses DICOM, JPEG 2000 of unknown colour, plain images and untiled TIFFs with a message naming the file and a conversion', async () => {
    const dicom = join(dir, 'slide.dcm');
    writeFileSync(dicom, Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64)]));
    await expect(openSlideFile(dicom)).rejects.toThrow(/^slide\.dcm: a DICOM file .*vips tiffsave/);
    for (const compression of [33004, 34712]) {
      const j2k = join(dir, `j2k-${compression}.tif`);
      copyFileSync(join(dir, 'generic-lzw.tif'), j2k);
      execFileSync('tiffset', ['-s', '259', String(compression), j2k]);
      await expect(openSlideFile(j2k)).rejects.toThrow(new RegExp(`^j2k-${compression}\\.tif: JPEG 2000 tiles tagged ${compression} .*vips tiffsave`));
    }
    // Tagged as Aperio JPEG 2000 but holding LZW data: the slide opens, and its tiles fail with OpenJPEG's verdict.
    const notJ2k = join(dir, 'not-j2k.svs');
    copyFileSync(join(dir, 'generic-lzw.tif'), notJ2k);
    execFileSync('tiffset', ['-s', '259', '33003', notJ2k]);
    const { slide } = await openSlideFile(notJ2k);
    await expect(slide.readTile(0, 0, 0)).rejects.toThrow(/^not-j2k\.svs: cannot decode tile \(0, 0\) of level 0: not a JPEG 2000 codestream \(it starts with bytes [0-9a-f]{8}, not ff4fff51\)/);
    await expect(openSlideFile(join(dir, 'source.png'))).rejects.toThrow(/^source\.png: a PNG image, not a slide/);
    const stripped = join(dir, 'stripped.tif');
    execFileSync('vips', ['tiffsave', join(dir, 'source.png'), stripped]);
    await expect(openSlideFile(stripped)).rejects.toThrow(/^stripped\.tif: no tiled image/);
    await expect(openSlideFile(join(dir, 'missing.svs'))).rejects.toThrow(/^missing\.svs: cannot read the file/);
  });

  it('refuses Hamamatsu NDPI, known by its Make or its private tag 65420, naming the format and a conversion', async () => {
    const byMake = join(dir, 'make.ndpi');
    copyFileSync(join(dir, 'generic-lzw.tif'), byMake);
    execFileSync('tiffset', ['-s', '271', 'Hamamatsu', byMake]);
    await expect(openSlideFile(byMake)).rejects.toThrow(/^make\.ndpi: a Hamamatsu NDPI slide.*vips tiffsave/);
    // tiffset cannot write a private tag: the first directory's last entry (SampleFormat, 339) is renamed 65420 in place,
    // which keeps the entries sorted
    const bytes = readFileSync(join(dir, 'generic-lzw.tif'));
    const ifd = bytes.readUInt32LE(4);
    const last = ifd + 2 + 12 * (bytes.readUInt16LE(ifd) - 1);
    expect(bytes.readUInt16LE(last)).toBe(339);
    bytes.writeUInt16LE(65420, last);
    const byTag = join(dir, 'tag.ndpi');
    writeFileSync(byTag, bytes);
    await expect(openSlideFile(byTag)).rejects.toThrow(/^tag\.ndpi: a Hamamatsu NDPI slide.*vips tiffsave/);
  });
});

describe('tissue, tiles and fingerprint', () => {
  it('Otsu splits two populations between them', () => {
    const values = Uint8Array.from({ length: 1000 }, (_, i) => (i < 600 ? 10 + (i % 7) : 120 + (i % 11)));
    const t = otsuThreshold(values);
    expect(t).toBeGreaterThanOrEqual(16);
    expect(t).toBeLessThan(120);
  });

  it('finds the tissue pieces and not the glass, and the threshold and regions change the result', async () => {
    const { slide } = await openSlideFile(join(dir, 'svs-ycbcr.svs'));
    const mask = await detectTissue(slide);
    // the synthetic slide: glass is (243, 241, 244) ± 3, tissue is H&E texture; check against the source pixels
    const source = await openSlideFile(join(dir, 'generic-lzw.tif'));
    const glass = await source.slide.readRegion(0, 0, 0, 8, 8);
    expect(glass.rgba[0]).toBeGreaterThan(235);
    expect(mask.data[0]).toBe(0);
    expect(mask.tissueFraction).toBeGreaterThan(0.1);
    expect(mask.tissueFraction).toBeLessThan(0.9);
    expect(mask.scaleX).toBeCloseTo(32, 0);
    let agree = 0;
    const probe = await source.slide.readRegion(4, 0, 0, 240, 180);
    for (let y = 0; y < mask.height; y++) {
      for (let x = 0; x < mask.width; x++) {
        const o = (Math.floor((y + 0.5) * mask.scaleY / 16) * 240 + Math.floor((x + 0.5) * mask.scaleX / 16)) * 4;
        const isGlass = (probe.rgba[o] ?? 0) > 236 && (probe.rgba[o + 1] ?? 0) > 234;
        if ((mask.data[y * mask.width + x] === 1) !== isGlass) agree++;
      }
    }
    // pale lumens inside tissue look like glass pixel by pixel, and the closing rightly fills them
    expect(agree / mask.data.length).toBeGreaterThan(0.9);
    const strict = await detectTissue(slide, { threshold: 250 });
    expect(strict.tissueFraction).toBe(0);
    const half = [{ x: 0, y: 0 }, { x: 1920, y: 0 }, { x: 1920, y: 2880 }, { x: 0, y: 2880 }];
    const left = await detectTissue(slide, { include: [half] });
    const right = await detectTissue(slide, { exclude: [half] });
    expect(left.tissueFraction + right.tissueFraction).toBeCloseTo(mask.tissueFraction, 5);
    expect(left.tissueFraction).toBeLessThan(mask.tissueFraction);
  });

  it('tiles the tissue at 0.5 µm/px, 224 px, and reads a tile at the model size', async () => {
    const { slide } = await openSlideFile(join(dir, 'svs-ycbcr.svs'));
    const mask = await detectTissue(slide);
    const grid = tileGrid(slide, mask);
    expect(grid.size0).toBe(Math.round(224 * (0.5 / 0.2527)));
    expect(grid.tiles.length).toBeGreaterThan(5);
    expect(grid.tiles.length).toBeLessThan(grid.columns * grid.rows);
    for (const t of grid.tiles) expect(t.tissue).toBeGreaterThanOrEqual(0.5);
    const all = tileGrid(slide, mask, { minTissue: 0 });
    expect(all.tiles.length).toBeGreaterThan(grid.tiles.length);
    const tile = await readGridTile(slide, grid.tiles[0]!, 224);
    expect([tile.width, tile.height, tile.rgba.length]).toEqual([224, 224, 224 * 224 * 4]);
    const { slide: noMpp } = await openSlideFile(join(dir, 'no-mpp.tif'));
    expect(() => tileGrid(noMpp, mask)).toThrow(/does not state its resolution/);
  });

  it('the fingerprint is stable, and differs between files and after the description changes', async () => {
    const a = await openSlideFile(join(dir, 'svs-ycbcr.svs'));
    const again = await openSlideFile(join(dir, 'svs-ycbcr.svs'));
    const b = await openSlideFile(join(dir, 'svs-rgb.svs'));
    const fa = await slideFingerprint(a.slide, a.head);
    expect(fa).toMatch(/^[0-9a-f]{64}$/);
    expect(await slideFingerprint(again.slide, again.head)).toBe(fa);
    expect(await slideFingerprint(b.slide, b.head)).not.toBe(fa);
    const changed = join(dir, 'changed.svs');
    copyFileSync(join(dir, 'svs-ycbcr.svs'), changed);
    execFileSync('tiffset', ['-s', '270', 'Aperio Image Library v12.0.16\n3840x2880|AppMag = 20|MPP = 0.5', changed]);
    const c = await openSlideFile(changed);
    expect(await slideFingerprint(c.slide, c.head)).not.toBe(fa);
  });
});
