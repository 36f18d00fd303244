// The workstation check (/benchmark): driven from the keyboard, it runs the bundled tiny model in fresh ViT workers on
// WebGPU (SwiftShader here) and WebAssembly at batch 1, shows a row for each, and reports that their tokens agree.
import { expect, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, logPageErrors } from './app-helpers.ts';

test('workstation check: tiny model on WebGPU and WebAssembly, both rows, tokens agree', async ({ page }) => {
  test.setTimeout(40_000);
  logPageErrors(page, 'benchmark');
  await page.goto('/benchmark');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Workstation check');
  const availability = page.getByTestId('backend-availability');
  await expect(availability.locator('tr[data-backend="webgpu"]')).toContainText('available');
  await expect(availability.locator('tr[data-backend="wasm"]')).toContainText('WebAssembly SIMD');

  // Keep WebGPU and WebAssembly, batch 1, two images, one timed run: toggled with the keyboard.
  const press = async (name: RegExp) => {
    const box = page.getByRole('checkbox', { name });
    await box.focus();
    await page.keyboard.press('Space');
  };
  await expect(page.getByRole('checkbox', { name: /^WebGPU/ })).toBeChecked();
  await press(/^WebGL/);
  await press(/^Plain JavaScript/);
  await press(/^Batch 8/);
  await expect(page.getByRole('checkbox', { name: /^WebGL/ })).not.toBeChecked();
  await expect(page.getByRole('checkbox', { name: /^Batch 8/ })).not.toBeChecked();
  await page.getByLabel('Synthetic images per run').fill('2');
  await page.getByLabel('Timed runs').fill('1');
  await expectNoSeriousA11yViolations(page, 'Workstation check');
  await page.getByRole('button', { name: 'Run workstation check' }).focus();
  await page.keyboard.press('Enter');

  const rows = page.getByTestId('benchmark-row');
  await expect(page.getByTestId('benchmark-agreement')).toContainText('The backends agree', { timeout: 30_000 });
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-backend', 'webgpu');
  await expect(rows.nth(1)).toHaveAttribute('data-backend', 'wasm');
  for (const row of [rows.nth(0), rows.nth(1)]) {
    await expect(row).toHaveAttribute('data-status', 'measured');
    await expect(row).toHaveAttribute('data-batch', '1');
    expect(Number(await row.getByTestId('ms-per-image').textContent())).toBeGreaterThan(0);
  }
  const report = JSON.parse(await page.getByLabel('Results (JSON)').inputValue()) as { maxAbsDiff: number; rows: { backend: string; reference: string | null; maxAbsDiff: number | null }[] };
  expect(report.rows.map((r) => r.backend)).toEqual(['webgpu', 'wasm']);
  expect(report.rows[1]?.reference).toBe('webgpu');
  expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-3);
});
