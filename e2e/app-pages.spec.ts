// Inference, Privacy and Settings pages, the router (shareable addresses, ?backend= carried, unknown pages), and
// axe on every page. Actions are driven from the keyboard where the page offers them.
import { expect, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, logPageErrors } from './app-helpers.ts';

test('router: every page has an address, ?backend= survives navigation, unknown pages and parameters are reported', async ({ page }) => {
  logPageErrors(page, 'router');
  await page.goto('/?backend=wasm');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Federation');
  for (const [name, heading] of [['Slides', 'Slides'], ['Inference', 'Inference'], ['Privacy', 'Privacy'], ['Settings', 'Settings and about'], ['Demo', 'Three-clinic demo'], ['Federation', 'Federation']]) {
    const link = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true });
    await link.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading as string);
    await expect(page).toHaveURL(/\?backend=wasm$/);
    await expect(link).toHaveAttribute('aria-current', 'page');
    await expectNoSeriousA11yViolations(page, `${name} (empty)`);
  }
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Three-clinic demo');
  await page.goto('/nowhere');
  await expect(page.getByRole('alert')).toContainText('There is no page at “/nowhere”');
  await page.goto('/federation?round=zero');
  await expect(page.getByRole('alert')).toContainText('The round "zero" in the address is not a whole number');
});

test('inference with the demo model: pick tiles, classify in batch, local check per tile', async ({ page }) => {
  logPageErrors(page, 'inference');
  await page.goto('/inference');
  await expect(page.getByTestId('no-model')).toBeVisible();
  await expect(page.getByTestId('encrypted-availability')).toContainText('The coordinator offers encrypted inference (/api/federations/{fid}/inference), but this version of the app does not call it yet');
  await page.goto('/demo');
  await page.getByRole('button', { name: 'Run three-clinic demo' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Demo complete' })).toBeVisible();
  await page.goto('/slides');
  await page.getByRole('button', { name: 'Add the 18 bundled sample tiles' }).click();
  await expect(page.getByTestId('library-count')).toContainText('18 tile(s)');
  await page.getByRole('link', { name: 'Inference' }).click();
  // The demo already extracted these tiles: the tokens come from the cache, so nothing is missing.
  await expect(page.getByRole('group', { name: 'Tiles with tokens' })).toBeVisible();
  await page.getByRole('button', { name: 'Select all 18' }).click();
  await page.getByRole('checkbox', { name: 'lung_aca_1.png' }).press('Space'); // keyboard: untick one
  await expect(page.getByTestId('picked-count')).toHaveText('17 selected');
  await page.getByRole('button', { name: 'Classify 17 selected tile(s)' }).click();
  await expect(page.getByLabel('Classification progress')).toHaveAttribute('value', '17');
  await expect(page.getByTestId('local-prediction')).toHaveCount(17);
  await expect(page.getByTestId('local-prediction').first()).toContainText(/(adenocarcinoma|benign tissue|squamous cell carcinoma) \(\d/);
  await expectNoSeriousA11yViolations(page, '/inference (results)');
});

test('privacy: the coordinator-view check shows the tile, the ciphertext and the best guess side by side', async ({ page }) => {
  logPageErrors(page, 'privacy');
  await page.goto('/privacy');
  await expect(page.getByTestId('audit-state')).toContainText('npm run audit');
  await page.getByLabel('Sample tile').selectOption('7');
  await page.getByRole('button', { name: "Run the coordinator's-view check" }).click();
  const images = page.getByTestId('privacy-images');
  await expect(images.getByRole('img')).toHaveCount(3);
  await expect(images).toContainText('Original (benign tissue)');
  await expect(images).toContainText(/PSNR[\d.]+ dB/);
  await expectNoSeriousA11yViolations(page, '/privacy (check done)');
});

test('settings: model checksum, storage, and erasing all local data after confirmation', async ({ page }) => {
  logPageErrors(page, 'settings');
  await page.goto('/slides');
  await page.getByRole('button', { name: 'Add the 18 bundled sample tiles' }).click();
  await expect(page.getByTestId('library-count')).toContainText('18 tile(s)');
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByTestId('coordinator-url')).toHaveText(new URL(page.url()).origin);
  await expect(page.getByTestId('model-sha256')).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId('storage-used')).toContainText('used of');
  await page.getByRole('button', { name: 'Erase all local data…' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Erase all local data…' }).focus();
  await page.keyboard.press('Enter');
  const reloaded = page.waitForEvent('load');
  await page.getByRole('button', { name: 'Yes, erase all local data' }).press('Enter');
  await reloaded;
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings and about');
  await page.getByRole('link', { name: 'Slides' }).click();
  await expect(page.getByTestId('library-count')).toContainText('0 tile(s) in this browser');
  // The tile library reopens empty; the key vault and the token cache are gone until something is stored again.
  expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n === 'cipherpath-keys' || n === 'cipherpath-vit-tokens'))).toEqual([]);
});
