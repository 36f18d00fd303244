// Slides page: importing tiles (bundled samples, dropped files, a label CSV, baseline TIFF), per-file messages for
// files that are not tiles (nothing else affected), and a reload in the middle of an extraction that keeps the
// library and every token computed so far.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, logPageErrors } from './app-helpers.ts';

const SAMPLE = join(import.meta.dirname, '..', 'public', 'samples', 'lung_n', 'lung_n_1.png');

/** A little-endian baseline TIFF: 8x8 RGB, one strip, with the given compression tag value. */
function tiff(compression: number): number[] {
  const w = 8;
  const h = 8;
  const entries: [number, number, number, number][] = [
    [256, 3, 1, w],
    [257, 3, 1, h],
    [258, 3, 3, 8 + 2 + 12 * 10 + 4], // offset of the three BitsPerSample values
    [259, 3, 1, compression],
    [262, 3, 1, 2],
    [273, 4, 1, 8 + 2 + 12 * 10 + 4 + 6],
    [277, 3, 1, 3],
    [278, 3, 1, h],
    [279, 4, 1, w * h * 3],
    [284, 3, 1, 1],
  ];
  const out: number[] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, entries.length, 0];
  const u16 = (v: number) => [v & 255, v >> 8];
  const u32 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24];
  for (const [tag, type, count, value] of entries) out.push(...u16(tag), ...u16(type), ...u32(count), ...(type === 3 && count === 1 ? [...u16(value), 0, 0] : u32(value)));
  out.push(0, 0, 0, 0, ...u16(8), ...u16(8), ...u16(8));
  for (let p = 0; p < w * h; p++) out.push((p * 4) & 255, 128, 255 - ((p * 4) & 255));
  return out;
}

async function drop(page: Page, files: { name: string; bytes: number[]; type: string }[]): Promise<void> {
  await page.getByTestId('dropzone').evaluate((zone, list) => {
    const data = new DataTransfer();
    for (const f of list) data.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  }, files);
}

test('drop tiles, a CSV, TIFFs and a non-image file: clear per-file messages, nothing else affected', async ({ page }) => {
  logPageErrors(page, 'slides');
  await page.goto('/slides');
  await expectNoSeriousA11yViolations(page, '/slides (empty)');
  // Keyboard: the sample button is reached with Tab and pressed with Enter.
  await page.getByRole('button', { name: 'Add the 18 bundled sample tiles' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('library-count')).toContainText('18 tile(s) in this browser: 6 adenocarcinoma, 6 benign tissue, 6 squamous cell carcinoma, 0 unlabelled');

  const png = [...readFileSync(SAMPLE)];
  await drop(page, [
    { name: 'notes.txt', bytes: [...Buffer.from('not an image')], type: 'text/plain' },
    { name: 'lung_n_1_copy.png', bytes: png, type: 'image/png' },
    { name: 'plain.tif', bytes: tiff(1), type: 'image/tiff' },
    { name: 'packed.tif', bytes: tiff(5), type: 'image/tiff' },
    { name: 'labels.csv', bytes: [...Buffer.from('filename,label\nplain.tif,lung_scc\nbad.png,lung_xyz\n')], type: 'text/csv' },
  ]);
  const messages = page.getByTestId('import-messages');
  await expect(messages).toContainText('notes.txt is not a PNG, JPEG or TIFF image; it was not added');
  await expect(messages).toContainText('packed.tif: uses LZW compression; only uncompressed TIFF is supported');
  await expect(messages).toContainText('label "lung_xyz" is not one of lung_aca, lung_n, lung_scc');
  await expect(messages).toContainText('1 file(s) were already in the library and were skipped');
  // The uncompressed TIFF was decoded and labelled by the CSV; the 18 samples are untouched.
  await expect(page.getByTestId('library-count')).toContainText('19 tile(s) in this browser: 6 adenocarcinoma, 6 benign tissue, 7 squamous cell carcinoma, 0 unlabelled');
  await expect(page.getByTestId('tile').filter({ hasText: 'plain.tif' })).toContainText('squamous cell carcinoma');
  await expectNoSeriousA11yViolations(page, '/slides (with messages)');

  // The label filter is part of the address, and a bad value is reported.
  await page.getByLabel('Show').selectOption('lung_scc');
  await expect(page).toHaveURL(/\/slides\?label=lung_scc$/);
  await expect(page.getByTestId('tile')).toHaveCount(7);
  await page.goto('/slides?label=cats');
  await expect(page.getByRole('alert').first()).toContainText('Unknown label "cats"');
});

test('a reload in the middle of an extraction keeps the tiles and the tokens computed so far', async ({ page }) => {
  logPageErrors(page, 'slides-reload');
  // SwiftShader WebGPU is slow, which gives the test a middle to reload in.
  await page.goto('/slides?backend=webgpu');
  await page.getByRole('button', { name: 'Add the 18 bundled sample tiles' }).click();
  await expect(page.getByTestId('library-count')).toContainText('18 tile(s)');
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByLabel('Extraction progress')).toBeVisible();
  await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
  await expect(page.locator('[data-testid="tile"][data-status="done"]').first()).toBeVisible();
  const before = await page.locator('[data-testid="tile"][data-status="done"]').count();
  await page.reload();

  await expect(page.getByTestId('library-count')).toContainText('18 tile(s)');
  await expect(page.getByTestId('extraction-interrupted')).toContainText('reloaded during an extraction');
  const kept = await page.locator('[data-testid="tile"][data-status="done"]').count();
  expect(kept).toBeGreaterThanOrEqual(before);
  expect(kept).toBeLessThan(18);
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('token-summary')).toContainText('18 token(s) of 192 dimensions');
  await expect(page.getByText(`${kept} token(s) came from this browser's cache`)).toBeVisible();
});
