// Screenshots of every page at 1280x800 for docs/screenshots (run with CIPHERPATH_SCREENSHOTS=1; skipped otherwise so
// the regular e2e run does not rewrite the docs). The pages are filled by real runs: the demo, samples, a privacy check.
import { expect, test } from '@playwright/test';

test.skip(!process.env.CIPHERPATH_SCREENSHOTS, 'set CIPHERPATH_SCREENSHOTS=1 to write docs/screenshots');

test('screenshots of every page', async ({ page }) => {
  const shot = (name: string) => page.screenshot({ path: `docs/screenshots/${name}.png` });
  await page.goto('/demo');
  await page.getByRole('button', { name: 'Run three-clinic demo' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Demo complete' })).toBeVisible();
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
  await shot('inference');
  await page.goto('/privacy');
  await page.getByRole('button', { name: "Run the coordinator's-view check" }).click();
  await expect(page.getByTestId('privacy-images').getByRole('img')).toHaveCount(3);
  await shot('privacy');
  await page.goto('/settings');
  await expect(page.getByTestId('storage-used')).toBeVisible();
  await shot('settings');
});
