// The Slides page's tile pipeline (src/app/lib/extraction.ts): tiles are decoded and preprocessed in the decode
// worker while the ViT worker runs the previous batch, so during a real extraction of generated tiles (small ones,
// two 2048 px ones and a TIFF; several batches) no main-thread task lasts over 50 ms; the tokens equal
// `npm run embed`'s (Node, the same model and files; the TIFF's pixels are a PNG's) within 1e-5; Cancel stops the extraction mid-way and nothing more is computed,
// and Extract again computes only the missing tiles (the rest come from the token cache).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { logPageErrors, longTasksBetween, observeLongTasks } from './app-helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const SMALL_TILES = 40;
const LARGE_TILES = 2;

let dir = '';
let smallPaths: string[] = [];
let largePaths: string[] = [];
/** A TIFF with the pixels of small tile 0: its token must be that PNG's. */
let tiffPath = '';

/** A seeded tile with some structure (rings and stripes that differ per tile), written as an RGBA PNG. */
function writeTile(path: string, size: number, seed: number): PNG {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const u = x / size;
      const v = y / size;
      png.data[i] = (128 + 127 * Math.sin(seed + 9 * u + 5 * v * v)) & 255;
      png.data[i + 1] = (128 + 127 * Math.cos(2 * seed + 13 * Math.hypot(u - 0.5, v - 0.5))) & 255;
      png.data[i + 2] = (x * 7 + y * 3 + seed * 31) & 255;
      png.data[i + 3] = 255;
    }
  }
  writeFileSync(path, PNG.sync.write(png));
  return png;
}

/** The same pixels as an uncompressed little-endian RGB TIFF in one strip (what the baseline reader takes). */
function writeTiff(path: string, png: PNG): void {
  const { width, height } = png;
  const tags: [tag: number, type: 3 | 4, count: number, value: number][] = [];
  const entries = 10;
  const bitsAt = 8 + 2 + entries * 12 + 4;
  const pixelsAt = bitsAt + 6;
  tags.push([256, 4, 1, width], [257, 4, 1, height], [258, 3, 3, bitsAt], [259, 3, 1, 1], [262, 3, 1, 2]);
  tags.push([273, 4, 1, pixelsAt], [277, 3, 1, 3], [278, 4, 1, height], [279, 4, 1, width * height * 3], [284, 3, 1, 1]);
  const out = Buffer.alloc(pixelsAt + width * height * 3);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries, 8);
  tags.forEach(([tag, type, count, value], k) => {
    const at = 10 + k * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(count, at + 4);
    if (type === 3 && count === 1) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  });
  for (let c = 0; c < 3; c++) out.writeUInt16LE(8, bitsAt + 2 * c);
  for (let p = 0; p < width * height; p++) png.data.copy(out, pixelsAt + p * 3, p * 4, p * 4 + 3);
  writeFileSync(path, out);
}

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cipherpath-extraction-e2e-'));
  smallPaths = Array.from({ length: SMALL_TILES }, (_, t) => join(dir, `small-${String(t).padStart(2, '0')}.png`));
  largePaths = Array.from({ length: LARGE_TILES }, (_, t) => join(dir, `large-${t}.png`));
  smallPaths.forEach((p, t) => {
    const png = writeTile(p, 256, t + 1);
    if (t === 0) writeTiff((tiffPath = join(dir, 'small-00.tif')), png);
  });
  largePaths.forEach((p, t) => writeTile(p, 2048, 100 + t));
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const now = (page: Page) => page.evaluate(() => performance.now());

async function importTiles(page: Page, paths: string[]): Promise<void> {
  await page.getByLabel('Tile files').setInputFiles(paths);
  await expect(page.getByTestId('library-count')).toContainText(`${paths.length} tile(s) in this browser`);
}

const doneTiles = (page: Page) => page.locator('[data-testid="tile"][data-status="done"]').count();

test('pipelined extraction keeps the page responsive and gives the tokens of npm run embed', async ({ page }) => {
  logPageErrors(page, 'extraction');
  await observeLongTasks(page);
  const pngs = [...smallPaths.slice(0, 20), ...largePaths, ...smallPaths.slice(20)];
  const embedded = JSON.parse(execFileSync(process.execPath, ['scripts/embed.ts', '--model', 'public/models/tiny', '--json', '--threads', '1', ...pngs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as { tokens: number[][] };
  // Node reads no TIFF; the TIFF holds small tile 0's pixels, so its reference is that tile's token.
  embedded.tokens.push(embedded.tokens[0] as number[]);
  const paths = [...pngs, tiffPath];

  await page.goto('/slides?backend=wasm');
  await importTiles(page, paths);
  const started = await now(page);
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('backend-name')).toHaveText('wasm');
  await expect(page.getByTestId('token-progress-text')).toHaveText(`${paths.length} of ${paths.length} tile(s) have tokens`, { timeout: 120_000 });
  const ended = await now(page);
  expect(await longTasksBetween(page, started, ended), 'main-thread tasks over 50 ms during the extraction').toEqual([]);

  // The Federation page shows the same library's tokens (from the cache) as JSON, in library order.
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('token-summary')).toContainText(`${paths.length} token(s) of 192 dimensions`);
  const tokens = JSON.parse(await page.getByLabel('Token values (JSON)').inputValue()) as number[][];
  expect(tokens).toHaveLength(embedded.tokens.length);
  let maxDiff = 0;
  for (const [t, token] of tokens.entries()) {
    const reference = embedded.tokens[t] as number[];
    expect(token).toHaveLength(reference.length);
    for (const [d, value] of token.entries()) maxDiff = Math.max(maxDiff, Math.abs(value - (reference[d] as number)));
  }
  expect(maxDiff).toBeLessThanOrEqual(1e-5);
});

test('Cancel stops the extraction mid-way; Extract again computes only the missing tiles', async ({ page }) => {
  logPageErrors(page, 'extraction-cancel');
  await observeLongTasks(page);
  // SwiftShader WebGPU is slow enough for a cancel to land between batches.
  await page.goto('/slides?backend=webgpu');
  await importTiles(page, smallPaths);
  const started = await now(page);
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.locator('[data-testid="tile"][data-status="done"]').first()).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Extraction cancelled' })).toBeVisible();
  const kept = await doneTiles(page);
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(SMALL_TILES);
  // Nothing is decoded into a token after the cancel: the batches in flight were dropped, not finished.
  await page.waitForTimeout(3000);
  expect(await doneTiles(page)).toBe(kept);
  await expect(page.getByTestId('token-progress-text')).toHaveText(`${kept} of ${SMALL_TILES} tile(s) have tokens`);

  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('token-progress-text')).toHaveText(`${SMALL_TILES} of ${SMALL_TILES} tile(s) have tokens`, { timeout: 180_000 });
  await expect(page.getByText(`${kept} token(s) came from this browser's cache`)).toBeVisible();
  const ended = await now(page);
  expect(await longTasksBetween(page, started, ended), 'main-thread tasks over 50 ms during the extraction').toEqual([]);
});
