// Extraction at slide scale against the Node CLI: every tissue tile of a generated SVS is embedded in the browser at
// the bundled tiny model's input size, and each token equals `npm run slide -- embed` at the same (x, y) within 1e-4.
// A reload in the middle keeps what was stored (tokens and coordinates per slide fingerprint and model), and the
// resumed run embeds only the missing tiles. Pause holds, Cancel stops, and no request body carries the slide.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { expectNoSeriousA11yViolations } from './app-helpers.ts';
import { cspViolations, recordCspViolations, watch } from './slide-watch.ts';

const ROOT = join(import.meta.dirname, '..');
const MODEL_SIZE = 32; // the bundled tiny model's input size
const BATCH = 16; // lib/slide-extraction.ts SLIDE_BATCH
let dir = '';
let svs = '';
let reference = new Map<string, number[]>();

interface EmbedOutput {
  tiles: { x: number; y: number; size0: number; token: number[] }[];
}

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-slide-extraction-'));
  const node = (...args: string[]) => execFileSync(process.execPath, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
  node(join(ROOT, 'scripts', 'make-test-slides.ts'), dir, '--only', 'svs-ycbcr');
  svs = join(dir, 'svs-ycbcr.svs');
  const out = JSON.parse(node(join(ROOT, 'scripts', 'slide.ts'), 'embed', svs, '--model', 'public/models/tiny', '--size', String(MODEL_SIZE), '--json')) as EmbedOutput;
  reference = new Map(out.tiles.map((t) => [`${t.x},${t.y}`, t.token]));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));
test.beforeEach(({ page }) => recordCspViolations(page));

const figures = (page: Page) => page.getByTestId('slide-extraction-figures');
const figure = async (page: Page, name: string): Promise<number> => Number(await figures(page).getAttribute(`data-${name}`));

async function openSlide(page: Page): Promise<void> {
  await page.getByLabel('Slide file').setInputFiles(svs);
  await expect(page.getByTestId('tile-count')).toHaveAttribute('data-count', String(reference.size));
  await expect(page.getByTestId('slide-tokens-stored')).toBeVisible();
}

/** Every token the page stored, read straight from its IndexedDB. */
function storedTokens(page: Page): Promise<{ x: number; y: number; token: number[] }[]> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('cipherpath-slide-tokens');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('tokens').objectStore('tokens').getAll();
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            resolve((get.result as { x: number; y: number; token: Float32Array }[]).map((t) => ({ x: t.x, y: t.y, token: Array.from(t.token) })));
            open.result.close();
          };
        };
      }),
  );
}

test('all tissue tiles are extracted as the CLI embeds them; a reload mid-way resumes only the missing tiles', async ({ page }) => {
  const seen = watch(page, [{ name: 'svs-ycbcr.svs', bytes: new Uint8Array(readFileSync(svs)) }]);
  const total = reference.size;
  await page.goto('/slides');
  await openSlide(page);
  await expect(page.getByTestId('slide-tokens-stored')).toHaveAttribute('data-stored', '0');
  await page.getByRole('button', { name: `Extract ${total} tile(s)` }).click();
  await expect.poll(() => figure(page, 'batches')).toBeGreaterThanOrEqual(3);
  // paused before the reload, so the reload is sure to land mid-way
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('slide-extraction')).toHaveAttribute('data-status', 'paused');
  await expect(page.getByRole('progressbar', { name: 'Slide extraction' })).toBeVisible();
  const before = (await storedTokens(page)).length;
  expect(before).toBeGreaterThanOrEqual(3 * BATCH);
  expect(before).toBeLessThan(total);

  await page.reload();
  await expect(page.getByTestId('slide-resumable')).toHaveAttribute('data-stored', String(before));
  await expect(page.getByTestId('slide-resumable')).toContainText('svs-ycbcr.svs');
  await openSlide(page);
  await expect(page.getByTestId('slide-tokens-stored')).toHaveAttribute('data-stored', String(before));
  await page.getByRole('button', { name: `Extract ${total} tile(s)` }).click();
  await expect(page.getByTestId('slide-extraction')).toHaveAttribute('data-status', 'done');
  // only the missing tiles went to the ViT: the stored ones were reused, the rest embedded in as few batches as that takes
  expect(await figure(page, 'reused')).toBe(before);
  expect(await figure(page, 'computed')).toBe(total - before);
  expect(await figure(page, 'batches')).toBe(Math.ceil((total - before) / BATCH));
  expect(await figure(page, 'done')).toBe(total);
  await expect(page.getByTestId('slide-tokens-stored')).toHaveAttribute('data-stored', String(total));

  const tokens = await storedTokens(page);
  expect(tokens.length).toBe(total);
  let worst = 0;
  for (const { x, y, token } of tokens) {
    const expected = reference.get(`${x},${y}`);
    expect(expected, `tile ${x},${y} is one the CLI embeds`).toBeDefined();
    expect(token.length).toBe(expected?.length);
    token.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (expected?.[i] ?? Number.NaN)))));
  }
  console.log(`slide extraction on ${await figures(page).getAttribute('data-backend')}: ${total} tiles, ${before} reused after the reload, max |browser − CLI| = ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-4);

  expect(seen.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  expect([...seen.problems, ...(await cspViolations(page))]).toEqual([]);
});

test('Pause holds the extraction, Resume continues it, Cancel stops it', async ({ page }) => {
  const seen = watch(page, [{ name: 'svs-ycbcr.svs', bytes: new Uint8Array(readFileSync(svs)) }]);
  await page.goto('/slides');
  await openSlide(page);
  await page.getByRole('button', { name: /^Extract \d+ tile\(s\)$/ }).click();
  await expect.poll(() => figure(page, 'batches')).toBeGreaterThanOrEqual(1);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('slide-extraction')).toHaveAttribute('data-status', 'paused');
  await expect(figures(page)).toContainText('paused');
  await expectNoSeriousA11yViolations(page, 'slide extraction, paused');
  const paused = await figure(page, 'batches');
  await page.waitForTimeout(1000);
  expect(await figure(page, 'batches')).toBe(paused);
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(() => figure(page, 'batches')).toBeGreaterThan(paused);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('slide-extraction')).toHaveAttribute('data-status', 'cancelled');
  const stored = (await storedTokens(page)).length;
  expect(stored).toBeLessThan(reference.size);
  await page.waitForTimeout(1000);
  expect((await storedTokens(page)).length).toBe(stored);
  await expect(page.getByTestId('slide-tokens-stored')).toHaveAttribute('data-stored', String(stored));
  expect(seen.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  expect([...seen.problems, ...(await cspViolations(page))]).toEqual([]);
});

test('with File System Access the slide reopens after a reload from its kept handle, without picking it again', async ({ page }) => {
  // Playwright cannot answer Chromium's native file picker, so the picker hands back a real FileSystemFileHandle of
  // the origin-private file system holding the slide; keeping it in IndexedDB, the reload and reopening are the app's.
  const bytes = readFileSync(svs);
  await page.addInitScript(() => {
    (window as unknown as { showOpenFilePicker: () => Promise<FileSystemFileHandle[]> }).showOpenFilePicker = async () => {
      const root = await navigator.storage.getDirectory();
      return [await root.getFileHandle('svs-ycbcr.svs')];
    };
  });
  await page.goto('/slides');
  await page.evaluate(async (base64) => {
    const root = await navigator.storage.getDirectory();
    const writable = await (await root.getFileHandle('svs-ycbcr.svs', { create: true })).createWritable();
    await writable.write(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    await writable.close();
  }, bytes.toString('base64'));
  await page.getByRole('button', { name: 'Open a slide file…' }).click();
  await expect(page.getByTestId('tile-count')).toHaveAttribute('data-count', String(reference.size));
  await page.getByRole('button', { name: /^Extract \d+ tile\(s\)$/ }).click();
  await expect.poll(() => figure(page, 'batches')).toBeGreaterThanOrEqual(1);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('slide-extraction')).toHaveAttribute('data-status', 'paused');
  const stored = (await storedTokens(page)).length;

  await page.reload();
  await expect(page.getByTestId('slide-resumable')).toContainText('Reopen it to continue');
  await page.getByRole('button', { name: 'Reopen svs-ycbcr.svs' }).click();
  await expect(page.getByTestId('tile-count')).toHaveAttribute('data-count', String(reference.size));
  await expect(page.getByTestId('slide-tokens-stored')).toHaveAttribute('data-stored', String(stored));
  await expect(page.getByTestId('slide-resumable')).toHaveCount(0);
});
