// Screenshots of every page at 1280x800 for docs/screenshots (run with CIPHERPATH_SCREENSHOTS=1; skipped otherwise so
// the regular e2e run does not rewrite the docs). The pages are filled by real runs: the demo (whose clinic B then
// classifies encrypted on the Inference page), samples, a privacy check. CIPHERPATH_AUDIT_DIR=<npm run audit --out
// folder> serves that audit to the Privacy page when public/audit was not built into the app.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

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
  const auditDir = process.env.CIPHERPATH_AUDIT_DIR;
  if (auditDir) await page.route('**/audit/*', (route) => route.fulfill({ path: join(auditDir, decodeURIComponent(new URL(route.request().url()).pathname.split('/').pop() ?? '')) }));
  await page.goto('/privacy');
  if (auditDir) {
    const count = (JSON.parse(readFileSync(join(auditDir, 'audit.json'), 'utf8')) as { scenarios: unknown[] }).scenarios.length;
    await expect(page.getByTestId('audit-pairs').getByRole('img')).toHaveCount(2 * count);
    await shot('privacy-audit');
  }
  await page.getByRole('button', { name: "Run the coordinator's-view check" }).click();
  await expect(page.getByTestId('privacy-images').getByRole('img')).toHaveCount(3);
  await shot('privacy');
  await page.goto('/settings');
  await expect(page.getByTestId('storage-used')).toBeVisible();
  await shot('settings');
});
