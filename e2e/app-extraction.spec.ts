// The Slides page's tile pipeline (src/app/lib/extraction.ts): tiles are decoded and preprocessed in the decode
// worker while the ViT worker runs the previous batch, so during a real extraction of generated tiles (small ones
// and two 2048 px ones, several batches) no main-thread task lasts over 50 ms; the tokens equal `npm run embed`'s
// (Node, the same model and files) within 1e-5; Cancel stops the extraction mid-way and nothing more is computed,
// and Extract again computes only the missing tiles (the rest come from the token cache).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { logPageErrors } from './app-helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const SMALL_TILES = 40;
const LARGE_TILES = 2;

let dir = '';
let smallPaths: string[] = [];
let largePaths: string[] = [];

/** A seeded tile with some structure (rings and stripes that differ per tile), written as an RGBA PNG. */
function writeTile(path: string, size: number, seed: number): void {
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
}

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cipherpath-extraction-e2e-'));
  smallPaths = Array.from({ length: SMALL_TILES }, (_, t) => join(dir, `small-${String(t).padStart(2, '0')}.png`));
  largePaths = Array.from({ length: LARGE_TILES }, (_, t) => join(dir, `large-${t}.png`));
  smallPaths.forEach((p, t) => writeTile(p, 256, t + 1));
  largePaths.forEach((p, t) => writeTile(p, 2048, 100 + t));
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Records every main-thread task over 50 ms (the longtask entry type) from page start. */
async function observeLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

const now = (page: Page) => page.evaluate(() => performance.now());
const longTasksBetween = (page: Page, from: number, to: number) =>
  page.evaluate(([a, b]) => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks.filter((t) => t.start >= (a as number) && t.start <= (b as number)).map((t) => Math.round(t.duration)), [from, to]);

async function importTiles(page: Page, paths: string[]): Promise<void> {
  await page.getByLabel('Tile files').setInputFiles(paths);
  await expect(page.getByTestId('library-count')).toContainText(`${paths.length} tile(s) in this browser`);
}

const doneTiles = (page: Page) => page.locator('[data-testid="tile"][data-status="done"]').count();

test('pipelined extraction keeps the page responsive and gives the tokens of npm run embed', async ({ page }) => {
  logPageErrors(page, 'extraction');
  await observeLongTasks(page);
  const paths = [...smallPaths.slice(0, 20), ...largePaths, ...smallPaths.slice(20)];
  const embedded = JSON.parse(execFileSync(process.execPath, ['scripts/embed.ts', '--model', 'public/models/tiny', '--json', '--threads', '1', ...paths], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as { tokens: number[][] };

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
