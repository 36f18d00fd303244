// A ViT-S/14 with registers (384 wide, 12 layers, patch 14, 4 register tokens, LayerScale, SwiGLU, CLS || mean
// pooling; run at 98 px rather than 224 for SwiftShader), written with seeded random weights by
// scripts/make-tiny-model.ts, is picked in Settings and extracts in the browser worker on WebGPU and on
// wasm: both give tokens of 2 x 384 values that agree within 1e-3, and both equal what `npm run embed` computes in Node
// from the same folder (so the page really extracted with the picked model, not the bundled one).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, expect, test } from '@playwright/test';
import { logPageErrors } from './app-helpers.ts';

/** A fresh context per backend: tokens are cached per (image, model) in IndexedDB, so a shared one would reuse the first run's. */
async function sampleTokens(browser: Browser, folder: string, backend: string): Promise<number[][]> {
  const context = await browser.newContext();
  const page = await context.newPage();
  logPageErrors(page, `vit-families ${backend}`);
  await page.goto('/settings');
  await page.getByLabel('A model folder on this computer').check();
  await page.getByLabel('Model folder', { exact: true }).setInputFiles(folder);
  await page.getByRole('button', { name: 'Use this model' }).click();
  await expect(page.getByTestId('model-source')).toContainText('picked folder');
  await expect(page.getByTestId('model-token-width')).toHaveText('768'); // CLS || mean of a 384-wide model
  await page.goto(`/?backend=${backend}`);
  await page.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('token-summary')).toContainText('3 token(s)', { timeout: 120_000 });
  await expect(page.getByTestId('token-summary')).not.toContainText('cache');
  await expect(page.getByTestId('backend-name')).toHaveText(backend);
  const tokens = JSON.parse(await page.getByLabel('Token values (JSON)').inputValue()) as number[][];
  await context.close();
  return tokens;
}

test('a ViT-S/14 with registers extracts in the worker on WebGPU and wasm, with equal tokens', async ({ browser }) => {
  test.setTimeout(300_000);
  const folder = mkdtempSync(join(tmpdir(), 'cipherpath-s14-'));
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'make-tiny-model.ts'), '--preset', 'vit-s14-registers', '--out', folder, '--dtype', 'f32']);
  const root = join(import.meta.dirname, '..');
  // Sample set 1 is the first tile of every class, in class order (src/app/stores/tiles.ts loadSampleSet).
  const index = JSON.parse(readFileSync(join(root, 'public', 'samples', 'index.json'), 'utf8')) as { classes: string[]; tiles: { path: string; label: string }[] };
  const samples = index.classes.map((c) => join(root, 'public', 'samples', index.tiles.find((t) => t.label === c)?.path ?? ''));
  const node = (JSON.parse(execFileSync(process.execPath, [join(root, 'scripts', 'embed.ts'), '--model', folder, '--json', ...samples], { encoding: 'utf8' })) as { tokens: number[][] }).tokens;
  const gpu = await sampleTokens(browser, folder, 'webgpu');
  const wasm = await sampleTokens(browser, folder, 'wasm');
  expect(gpu).toHaveLength(3);
  const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((token, t) => token.map((v, d) => Math.abs(v - (b[t]?.[d] ?? NaN)))));
  for (const [t, token] of gpu.entries()) {
    expect(token).toHaveLength(768); // CLS || mean patch token: the width comes from the model folder
    expect(wasm[t]).toHaveLength(768);
  }
  console.log(`ViT-S/14 with registers: max abs diff WebGPU vs wasm ${maxDiff(gpu, wasm).toExponential(2)}, wasm vs Node ${maxDiff(wasm, node).toExponential(2)}`);
  expect(maxDiff(gpu, wasm)).toBeLessThanOrEqual(1e-3);
  expect(maxDiff(wasm, node)).toBeLessThanOrEqual(1e-4);
  // Tokens differ between tiles (a model that ignored its input would pass the agreement check).
  expect(Math.max(...(gpu[0] as number[]).map((v, d) => Math.abs(v - ((gpu[1] as number[])[d] as number))))).toBeGreaterThan(1e-3);
});
