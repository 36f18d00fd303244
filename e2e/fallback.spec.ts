// With WebGPU disabled, extraction falls back down the chain (webgl → wasm → cpu) and the page says which backend
// it uses and why WebGPU was skipped.
import { expect, test } from '@playwright/test';

test('without WebGPU the fallback backend is chosen and reported', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('token-summary')).toContainText('3 token(s)');
  const backend = await page.getByTestId('backend-name').textContent();
  expect(['webgl', 'wasm', 'cpu']).toContain(backend);
  await expect(page.getByTestId('backend')).toContainText('webgpu:');
});

test('a bad backend in the address is reported, not ignored', async ({ page }) => {
  await page.goto('/?backend=quantum');
  await expect(page.getByRole('alert')).toContainText('Unknown backend "quantum"');
});
