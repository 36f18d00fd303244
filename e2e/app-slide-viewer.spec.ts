// The slide viewer on the Slides page, against the Node reader on the same files: an Aperio SVS written now by
// scripts/make-test-slides.ts opens through the file input; the viewer shows its levels and MPP; the pixels it draws
// match readRegion; the tissue fraction and tile count equal `npm run slide -- tiles`; the label is shown only when
// asked; no request carries the slide, and nothing breaks the CSP. An Aperio JPEG 2000 SVS decodes in the workers.
// A pyramidal TIFF without a resolution makes the page ask for it, and NDPI, DICOM and JPEG 2000 images get the
// reader's refusal.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openSlideFile } from '../src/slide/open-node.ts';
import { expectNoSeriousA11yViolations } from './app-helpers.ts';
import { cspViolations, recordCspViolations, watch } from './slide-watch.ts';

const ROOT = join(import.meta.dirname, '..');
const MODEL_SIZE = 32; // the bundled tiny model's input size: the default tile size
let dir = '';
let svs = '';
let j2k = '';
let plain = '';

interface TilesOutput {
  count: number;
  size0: number;
  mask: { threshold: number; tissueFraction: number };
}

const node = (script: string, ...args: string[]): string => execFileSync(process.execPath, [join(ROOT, 'scripts', script), ...args], { encoding: 'utf8' });
const tilesCli = (file: string, ...args: string[]): TilesOutput => JSON.parse(node('slide.ts', 'tiles', file, '--json', '--size', String(MODEL_SIZE), ...args)) as TilesOutput;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-slides-'));
  node('make-test-slides.ts', dir, '--only', 'svs-ycbcr,svs-j2k-ycbcr');
  svs = join(dir, 'svs-ycbcr.svs');
  j2k = join(dir, 'svs-j2k-ycbcr.svs');
  // libvips' own pyramid, with no resolution: vips writes 1 px/mm, which the reader treats as not stated
  plain = join(dir, 'plain.tif');
  execFileSync('vips', ['tiffsave', join(dir, 'source.png'), plain, '--tile', '--pyramid', '--compression', 'jpeg', '--Q', '80']);
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.beforeEach(({ page }) => recordCspViolations(page));

test('an SVS opens in the viewer: levels and MPP from the file, drawn pixels as readRegion, tissue and tiles as the CLI', async ({ page }, testInfo) => {
  const bytes = new Uint8Array(readFileSync(svs));
  const seen = watch(page, [{ name: 'svs-ycbcr.svs', bytes }]);
  const info = JSON.parse(node('slide.ts', 'info', svs, '--json')) as { levels: { width: number; height: number; downsample: number }[]; fingerprint: string };
  const otsu = tilesCli(svs);
  await page.goto('/slides');
  await page.getByLabel('Slide file').setInputFiles(svs);

  const details = page.getByTestId('slide-details');
  await expect(details).toContainText('svs-ycbcr.svs: Aperio SVS, 3,840 × 2,880 px');
  await expect(page.getByTestId('slide-mpp')).toContainText('0.2527 × 0.2527 µm per pixel (from the Aperio description). Objective power: 40× (from the file)');
  const rows = page.getByTestId('slide-levels').locator('tbody tr');
  await expect(rows).toHaveCount(info.levels.length);
  for (const [i, level] of info.levels.entries()) await expect(rows.nth(i)).toHaveText(`${i}${level.width} × ${level.height}${level.downsample}240 × 240`);
  await expect(page.getByTestId('slide-mpp').locator('code')).toHaveText(info.fingerprint.slice(0, 16));

  // tissue and tiles at the Otsu threshold, then at a threshold the user sets: the CLI's numbers
  const tissue = page.getByTestId('tissue-fraction');
  const count = page.getByTestId('tile-count');
  await expect(tissue).toHaveAttribute('data-fraction', String(otsu.mask.tissueFraction));
  await expect(tissue).toHaveAttribute('data-threshold', String(otsu.mask.threshold));
  await expect(count).toHaveAttribute('data-count', String(otsu.count));
  await expect(count).toContainText(`${otsu.count} tile(s) of ${MODEL_SIZE} px at 0.5 µm/px (${otsu.size0} px at level 0`);
  await page.getByLabel('Automatic threshold (Otsu)').uncheck();
  await page.getByLabel('Saturation threshold').fill('40');
  const manual = tilesCli(svs, '--threshold', '40');
  await expect(tissue).toHaveAttribute('data-threshold', '40');
  await expect(tissue).toHaveAttribute('data-fraction', String(manual.mask.tissueFraction));
  await expect(count).toHaveAttribute('data-count', String(manual.count));
  expect(manual.count).not.toBe(otsu.count);
  await expect(page.getByTestId('slide-legend')).toContainText(`tile to extract (${manual.count})`);
  await expect(page.getByTestId('scale-bar')).toContainText(/\d+ (µm|mm)/);

  // the drawn pixels: zoomed past 1:1 into tissue (level 0 tiles, no smoothing), sampled at slide-pixel centres
  const { slide } = await openSlideFile(svs);
  await page.getByTestId('slide-viewer').scrollIntoViewIfNeeded();
  const box = (await page.getByTestId('slide-viewer').boundingBox()) as { x: number; y: number; width: number; height: number };
  const readout = page.getByTestId('pixel-readout');
  const pointAt = async (sx: number, sy: number) => {
    await page.mouse.move(sx, sy);
    await expect(readout).toHaveAttribute('data-rgb', /^\d+,\d+,\d+$/);
    return { x: Number(await readout.getAttribute('data-x')), y: Number(await readout.getAttribute('data-y')), rgb: ((await readout.getAttribute('data-rgb')) as string).split(',').map(Number) };
  };
  const otsuTiles = JSON.parse(node('slide.ts', 'tiles', svs, '--json')) as { tiles: { x: number; y: number; size0: number }[] };
  // the centre of the first tissue tile the CLI lists, found on screen from two readings at the whole-slide view
  const first = otsuTiles.tiles[0] as { x: number; y: number; size0: number };
  const centre = { x: Math.round(box.x + box.width / 2), y: Math.round(box.y + box.height / 2) };
  const a = await pointAt(centre.x - 100, centre.y - 100);
  const b = await pointAt(centre.x + 100, centre.y + 100);
  const perPixel = (b.x - a.x) / 200;
  const target = { x: centre.x - 100 + (first.x + first.size0 / 2 - a.x) / perPixel, y: centre.y - 100 + (first.y + first.size0 / 2 - a.y) / perPixel };
  // at the whole-slide view OSD draws level 1 (downsample 4), smoothed: the mean colour of patches over tissue is
  // the mean of readRegion at level 1 over the same place
  await expect(page.getByTestId('viewer-loaded')).toHaveAttribute('data-loaded', 'true');
  const toScreen = (x: number, y: number) => ({ x: centre.x - 100 + (x - a.x) / perPixel - box.x, y: centre.y - 100 + (y - a.y) / perPixel - box.y });
  for (const tile of otsuTiles.tiles.filter((_, i) => i % 3 === 0)) {
    const patch = 24;
    const corner = toScreen(tile.x + tile.size0 / 2, tile.y + tile.size0 / 2);
    const drawn = await page
      .getByTestId('slide-viewer')
      .locator('canvas:not(.slide-overlay)')
      .first()
      .evaluate((canvas: HTMLCanvasElement, [x, y, size]) => {
        const data = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(Math.round(x as number), Math.round(y as number), size as number, size as number).data;
        const sums = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sums[c] = (sums[c] ?? 0) + (data[i + c] ?? 0);
        return sums.map((v) => v / (data.length / 4));
      }, [corner.x, corner.y, patch]);
    const x0 = tile.x + tile.size0 / 2;
    const y0 = tile.y + tile.size0 / 2;
    const level1 = await slide.readRegion(1, x0, y0, Math.round((patch * perPixel) / 4), Math.round((patch * perPixel) / 4));
    const expected = [0, 1, 2].map((c) => {
      let sum = 0;
      for (let i = c; i < level1.rgba.length; i += 4) sum += level1.rgba[i] ?? 0;
      return sum / (level1.rgba.length / 4);
    });
    for (let c = 0; c < 3; c++) expect(Math.abs((drawn[c] ?? 0) - (expected[c] ?? 0)), `patch at (${x0}, ${y0}) drawn ${drawn} vs level 1 ${expected}`).toBeLessThanOrEqual(4);
  }

  const zoom = page.getByTestId('viewer-zoom');
  for (let i = 0; i < 6 && Number(await zoom.getAttribute('data-zoom')) < 4; i++) {
    await page.mouse.dblclick(target.x, target.y);
    await page.waitForTimeout(700);
  }
  expect(Number(await zoom.getAttribute('data-zoom'))).toBeGreaterThanOrEqual(4);
  await expect(page.getByTestId('viewer-loaded')).toHaveAttribute('data-loaded', 'true');
  let compared = 0;
  for (let k = 0; k < 40 && compared < 6; k++) {
    const at = await pointAt(Math.round(target.x) + (k % 8) * 7 - 24, Math.round(target.y) + Math.floor(k / 8) * 9 - 18);
    // only pixel centres well inside one slide pixel (a screen pixel is under a quarter of one at this zoom)
    if (Math.abs((at.x % 1) - 0.5) > 0.3 || Math.abs((at.y % 1) - 0.5) > 0.3) continue;
    const expected = Array.from((await slide.readRegion(0, Math.floor(at.x), Math.floor(at.y), 1, 1)).rgba.subarray(0, 3));
    for (let c = 0; c < 3; c++) expect(Math.abs((at.rgb[c] ?? -99) - (expected[c] ?? 0)), `pixel (${at.x}, ${at.y}) drawn ${at.rgb} vs ${expected}`).toBeLessThanOrEqual(2);
    compared++;
  }
  expect(compared).toBe(6);

  // the label may show patient identifiers: not decoded or shown until asked
  await expect(page.getByTestId('associated-label')).toHaveCount(0);
  await expect(page.getByTestId('associated-macro')).toHaveCount(0);
  await page.getByRole('button', { name: 'Show label' }).click();
  await expect(page.getByTestId('associated-label')).toBeVisible();
  await expect(page.getByTestId('associated-macro')).toHaveCount(0);
  await page.getByRole('button', { name: 'Hide label' }).click();
  await expect(page.getByTestId('associated-label')).toHaveCount(0);

  // the whole slide with its overlays at the usual 224 px tiles, for the docs
  await page.getByRole('button', { name: 'Whole slide' }).click();
  await page.getByLabel('Tile size (px)').fill('224');
  await page.getByLabel('Tile size (px)').blur();
  await expect(count).toHaveAttribute('data-count', String(tilesCli(svs, '--threshold', '40', '--size', '224').count));
  await expect(page.getByTestId('viewer-loaded')).toHaveAttribute('data-loaded', 'true');
  await page.waitForTimeout(600);
  await page.locator('.slide-workspace').evaluate((el) => {
    el.scrollIntoView({ block: 'start' });
    window.scrollBy(0, -16);
  });
  const moved = (await page.getByTestId('slide-viewer').boundingBox()) as typeof box;
  await page.mouse.move(target.x - box.x + moved.x, target.y - box.y + moved.y);
  await page.screenshot({ path: process.env.CIPHERPATH_SCREENSHOTS ? join(ROOT, 'docs', 'screenshots', 'slide-viewer.png') : testInfo.outputPath('slide-viewer.png') });
  await expectNoSeriousA11yViolations(page, '/slides (slide open)');

  // the viewer fetched nothing but the app itself: no request sent a body, none carried the slide
  expect(seen.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  expect([...seen.problems, ...(await cspViolations(page))]).toEqual([]);
});

test('an Aperio JPEG 2000 SVS decodes in the slide workers (OpenJPEG wasm): its tissue and tiles are what the CLI finds', async ({ page }) => {
  const seen = watch(page, [{ name: 'svs-j2k-ycbcr.svs', bytes: new Uint8Array(readFileSync(j2k)) }]);
  const otsu = tilesCli(j2k);
  await page.goto('/slides');
  await page.getByLabel('Slide file').setInputFiles(j2k);
  await expect(page.getByTestId('slide-details')).toContainText('svs-j2k-ycbcr.svs: Aperio SVS, 3,840 × 2,880 px');
  // the tissue mask is computed from a level decoded in the worker: equal fractions mean equal pixels
  await expect(page.getByTestId('tissue-fraction')).toHaveAttribute('data-fraction', String(otsu.mask.tissueFraction));
  await expect(page.getByTestId('tile-count')).toHaveAttribute('data-count', String(otsu.count));
  await expect(page.getByTestId('viewer-loaded')).toHaveAttribute('data-loaded', 'true');
  expect(seen.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  expect([...seen.problems, ...(await cspViolations(page))]).toEqual([]);
});

/** A little-endian TIFF with one directory: 64 x 64 and Hamamatsu's private NDPI tag 65420. */
function ndpiLike(): Buffer {
  const entries: [number, number, number, number][] = [[256, 3, 1, 64], [257, 3, 1, 64], [65420, 4, 1, 1]];
  const bytes: number[] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, entries.length, 0];
  for (const [tag, type, count, value] of entries) bytes.push(tag & 255, tag >> 8, type, 0, count, 0, 0, 0, value & 255, value >> 8, 0, 0);
  return Buffer.from([...bytes, 0, 0, 0, 0]);
}

test('a TIFF that does not state its µm/px is asked for it; NDPI, DICOM and JPEG 2000 get the reader message', async ({ page }) => {
  const seen = watch(page, [{ name: 'plain.tif', bytes: new Uint8Array(readFileSync(plain)) }]);
  await page.goto('/slides');
  // dropped among tiles, the pyramid goes to the viewer and the PNG to the tile library
  await page.getByLabel('Tile files').setInputFiles([plain, join(ROOT, 'public', 'samples', 'lung_n', 'lung_n_1.png')]);
  await expect(page.getByTestId('library-count')).toContainText('1 tile(s) in this browser');
  await expect(page.getByTestId('slide-details')).toContainText('plain.tif: generic pyramidal TIFF, 3,840 × 2,880 px');
  await expect(page.getByTestId('slide-mpp')).toContainText('Resolution: not stated in the file. Objective power: not stated in the file.');
  await expect(page.getByTestId('tissue-fraction')).toHaveAttribute('data-fraction', String(tilesCli(plain, '--slide-mpp', '0.25').mask.tissueFraction));
  await expect(page.getByTestId('tile-count')).toHaveCount(0);
  await expect(page.getByText("The tile grid needs the slide's µm per pixel: enter it above.")).toBeVisible();
  await expect(page.getByTestId('scale-bar')).toHaveText('no scale: µm per pixel unknown');
  await page.getByLabel('µm per pixel at level 0').fill('30');
  await page.getByRole('button', { name: 'Use this value' }).first().click();
  await expect(page.getByRole('alert').filter({ hasText: 'Enter a number from 0.05 to 20.' })).toBeVisible();
  await page.getByLabel('µm per pixel at level 0').fill('0.25');
  await page.getByRole('button', { name: 'Use this value' }).first().click();
  await expect(page.getByTestId('slide-mpp')).toContainText('0.25 µm per pixel (entered by you; the file does not state it)');
  await expect(page.getByTestId('tile-count')).toHaveAttribute('data-count', String(tilesCli(plain, '--slide-mpp', '0.25').count));
  await expect(page.getByTestId('scale-bar')).toContainText(/\d+ (µm|mm)/);
  await page.getByLabel('Objective power of level 0').fill('40');
  await page.getByRole('button', { name: 'Use this value' }).click();
  await expect(page.getByTestId('viewer-zoom')).toContainText('× on screen)');

  const refusals = [
    { name: 'case.ndpi', mimeType: 'image/tiff', buffer: ndpiLike(), message: 'case.ndpi: a Hamamatsu NDPI slide, which this reader does not read; convert it with `vips tiffsave' },
    { name: 'case.dcm', mimeType: 'application/dicom', buffer: Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64)]), message: 'case.dcm: a DICOM file (DICOM WSI is not read here)' },
    { name: 'case.jp2', mimeType: 'image/jp2', buffer: Buffer.from([0, 0, 0, 12, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a, 0, 0, 0, 0]), message: 'case.jp2: a JPEG 2000 image, not a tiled slide' },
  ];
  for (const { message, ...file } of refusals) {
    await page.getByLabel('Slide file').setInputFiles(file);
    await expect(page.getByTestId('slide-error')).toContainText(message);
    await expect(page.getByTestId('slide-details')).toHaveCount(0);
  }
  expect(seen.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  expect([...seen.problems, ...(await cspViolations(page))]).toEqual([]);
});
