// Choosing the model the app extracts with: a folder picked from this computer (here the tiny model stored as fp32,
// written by scripts/make-tiny-model.ts) replaces the bundled one after its manifest is checked, survives a reload,
// changes the tokens (the cache is keyed by model identity, so nothing is reused), and the bundled model comes back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, logPageErrors } from './app-helpers.ts';

async function sampleTokens(page: Page): Promise<number[][]> {
  await page.goto('/');
  await page.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('token-summary')).toContainText('3 token(s)');
  return JSON.parse(await page.getByLabel('Token values (JSON)').inputValue()) as number[][];
}

test('pick a model folder, extract with it after a reload, then return to the bundled model', async ({ page }) => {
  logPageErrors(page, 'model');
  const folder = mkdtempSync(join(tmpdir(), 'cipherpath-model-'));
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'make-tiny-model.ts'), '--out', folder, '--dtype', 'f32']);

  const bundledTokens = await sampleTokens(page);
  await page.goto('/settings');
  const bundledSha = await page.getByTestId('model-sha256').textContent();
  await expect(page.getByTestId('model-source')).toHaveText('/models/tiny/');
  await expect(page.getByTestId('model-token-width')).toHaveText('192');
  // The catalogue of foundation models says, before any download, which ones this browser can run and why not.
  await page.getByText(/Pathology foundation models this app can convert/).click();
  const catalogue = page.getByTestId('model-catalogue');
  await expect(catalogue.locator('tbody tr')).toHaveCount(15);
  await expect(catalogue.getByRole('row').filter({ hasText: 'owkin/phikon-v2' })).toContainText('runs in the browser');
  await expect(catalogue.getByRole('row').filter({ hasText: 'MahmoodLab/UNI2-h' })).toContainText(/681M parameters is too large for a browser tab: it would need about 5\.1 GiB/);
  await expect(catalogue.getByRole('row').filter({ hasText: 'MahmoodLab/CONCH' })).toContainText('not supported: its 512-value embedding comes from an attentional pooler');

  await page.getByLabel('A model folder on this computer').check();
  await page.getByLabel('Model folder', { exact: true }).setInputFiles(folder);
  await page.getByRole('button', { name: 'Use this model' }).click();
  await expect(page.getByTestId('model-source')).toContainText('picked folder');
  await expect(page.getByTestId('model-sha256')).not.toHaveText(bundledSha as string);
  await expect(page.getByText('stored as F32')).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'settings with a picked model');

  await page.reload();
  await expect(page.getByTestId('model-source')).toContainText('picked folder');
  const pickedTokens = await sampleTokens(page);
  let maxDiff = 0;
  for (const [t, token] of pickedTokens.entries()) for (const [d, v] of token.entries()) maxDiff = Math.max(maxDiff, Math.abs(v - (bundledTokens[t]?.[d] ?? NaN)));
  // The same seeded weights, stored at another precision: different tokens, close ones.
  expect(maxDiff).toBeGreaterThan(0);
  expect(maxDiff).toBeLessThan(0.1);

  await page.goto('/settings');
  await page.getByLabel('A model folder on this server').check();
  await page.getByLabel('Model folder path').fill('../secrets/');
  await page.getByRole('button', { name: 'Use this model' }).click();
  await expect(page.getByRole('alert')).toContainText('not a path on this server');
  await page.getByLabel('The bundled demo model (tiny ViT)').check();
  await page.getByRole('button', { name: 'Use this model' }).click();
  await expect(page.getByTestId('model-sha256')).toHaveText(bundledSha as string);
  expect(await sampleTokens(page)).toEqual(bundledTokens);
});
