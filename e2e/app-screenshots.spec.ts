// Screenshots of every page at 1280x800 for docs/screenshots (run with CIPHERPATH_SCREENSHOTS=1; skipped otherwise so
// the regular e2e run does not rewrite the docs). The pages are filled by real runs: the demo (whose clinic B then
// classifies encrypted on the Inference page), samples, the published audit (public/audit), a privacy check, the
// admin view of the demo federation, the workstation check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';

test.skip(!process.env.CIPHERPATH_SCREENSHOTS, 'set CIPHERPATH_SCREENSHOTS=1 to write docs/screenshots');

test('screenshots of every page', async ({ page }) => {
  const shot = (name: string) => page.screenshot({ path: `docs/screenshots/${name}.png` });
  await page.goto('/demo');
  await page.getByRole('button', { name: 'Run three-clinic demo' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Demo complete' })).toBeVisible();
  // The end of the run: the encrypted-inference step and the "Demo complete" status.
  await page.getByTestId('demo-step-inference').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shot('demo');
  await page.goto('/slides');
  await page.getByRole('button', { name: 'Add the 18 bundled sample tiles' }).click();
  await expect(page.getByTestId('library-count')).toContainText('18 tile(s)');
  await expect(page.locator('[data-testid="tile"][data-status="done"]')).toHaveCount(18);
  await shot('slides');
  await page.goto('/federation');
  await page.getByText('Numbers behind “Accuracy per round”').scrollIntoViewIfNeeded();
  await shot('federation');
  await page.goto('/inference');
  await page.getByRole('button', { name: 'Select all 18' }).click();
  await page.getByRole('button', { name: 'Classify 18 selected tile(s)' }).click();
  await expect(page.getByTestId('local-prediction')).toHaveCount(18);
  await expect(page.getByTestId('inference-summary')).toContainText('on 18 of 18 tile(s)');
  await page.getByRole('heading', { name: 'Classify' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shot('inference');
  await page.goto('/privacy');
  const published = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'audit', 'audit.json'), 'utf8')) as { scenarios: unknown[] };
  await expect(page.getByTestId('audit-pairs').getByRole('img')).toHaveCount(2 * published.scenarios.length);
  await shot('privacy-audit');
  await page.getByRole('button', { name: "Run the coordinator's-view check" }).click();
  await expect(page.getByTestId('privacy-images').getByRole('img')).toHaveCount(3);
  await shot('privacy');
  await page.goto('/settings');
  await expect(page.getByTestId('storage-used')).toBeVisible();
  await shot('settings');
  await page.goto('/admin');
  await page.getByLabel('Admin token').fill(E2E_ADMIN_TOKEN);
  await page.getByLabel('Admin token').press('Enter');
  await expect(page.getByTestId('audit-chain')).toContainText('Chain verified');
  await shot('admin');
  await page.goto('/benchmark');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await shot('benchmark');
});
