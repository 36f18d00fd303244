// Inference, Privacy and Settings pages, the router (shareable addresses, ?backend= carried, unknown pages), and
// axe on every page. Actions are driven from the keyboard where the page offers them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

test('inference with the demo model: pick tiles, classify in batch, encrypted at the coordinator beside the local check', async ({ page }) => {
  logPageErrors(page, 'inference');
  await page.goto('/inference');
  await expect(page.getByTestId('no-model')).toBeVisible();
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
  // The demo published its model encrypted; this browser keeps clinic B's enrolment, so the batch runs encrypted too.
  await expect(page.getByTestId('inference-summary')).toContainText('agrees with the local plaintext check on 17 of 17 tile(s) (encrypted head, batched layout');
  await expect(page.getByTestId('encrypted-prediction')).toHaveCount(17);
  await expectNoSeriousA11yViolations(page, '/inference (results)');
});

test('privacy: the published audit table and image pairs, the "run npm run audit" state without one, and the live coordinator-view check', async ({ page }) => {
  logPageErrors(page, 'privacy');
  // A published audit (npm run audit's shape), its PNGs served from the bundled sample tiles.
  const audit = {
    generatedAt: '2025-01-02T03:04:05.000Z',
    quick: false,
    scenarios: [
      { id: 'gradient-analytic', title: 'Shared gradients: analytic recovery', meaning: 'A shared update lets the server rebuild the tile exactly.', target: 'one tile', psnr: 'Infinity', ssim: 1, nmi: 1, lpips: 'unavailable', images: { original: 'a-original.png', reconstruction: 'a-reconstruction.png' }, details: '', seconds: 1 },
      { id: 'coordinator-ciphertexts', title: "Coordinator's view", meaning: 'The coordinator cannot do better than the average tile.', target: '18 tiles', psnr: 13.66, ssim: 0.2832, nmi: 0.24, lpips: 'unavailable', images: { original: 'b-original.png', reconstruction: 'b-reconstruction.png' }, details: '', seconds: 1 },
    ],
    meanGuess: { psnr: 13.66, ssim: 0.2832, nmi: 0.24 },
  };
  const png = readFileSync(join(import.meta.dirname, '..', 'public', 'samples', 'lung_n', 'lung_n_1.png'));
  await page.route('**/audit/audit.json', (route) => route.fulfill({ json: audit }));
  await page.route('**/audit/*.png', (route) => route.fulfill({ body: png, contentType: 'image/png' }));
  await page.goto('/privacy');
  await expect(page.getByTestId('audit-table').getByRole('row')).toHaveCount(3);
  await expect(page.getByTestId('audit-table')).toContainText('∞ (exact copy)');
  const pairs = page.getByTestId('audit-pairs');
  await expect(pairs.getByRole('region', { name: "Coordinator's view" })).toContainText('The coordinator cannot do better than the average tile.');
  await expect(pairs.getByRole('img')).toHaveCount(4);
  await expect(pairs.getByRole('img', { name: 'Original tile attacked in “Coordinator\'s view”' })).toHaveJSProperty('naturalWidth', 64);
  await expectNoSeriousA11yViolations(page, '/privacy (published audit)');
  // Without a published audit the page says how to make one.
  await page.unrouteAll();
  await page.route('**/audit/audit.json', (route) => route.fulfill({ status: 404, json: { error: 'not-found' } }));
  await page.reload();
  await expect(page.getByTestId('audit-state')).toContainText('run npm run audit');
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

test('erasing all local data is not blocked by another tab that holds the tile library and the token cache open', async ({ context }) => {
  const other = await context.newPage();
  logPageErrors(other, 'erase-other-tab');
  await other.goto('/slides?backend=wasm');
  await other.getByRole('button', { name: 'Add the 18 bundled sample tiles' }).click();
  await expect(other.getByTestId('library-count')).toContainText('18 tile(s)');
  await other.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(other.getByTestId('token-summary')).toContainText('18 token(s)');

  const page = await context.newPage();
  logPageErrors(page, 'erase');
  await page.goto('/settings');
  await page.getByRole('button', { name: 'Erase all local data…' }).click();
  const reloaded = page.waitForEvent('load');
  await page.getByRole('button', { name: 'Yes, erase all local data' }).click();
  await reloaded;
  // The other tab closed its connections on the delete's versionchange, so every database was deleted: what exists
  // now is only what the reloaded pages opened again, empty (a blocked delete would have left the 18 tiles and tokens).
  const leftovers = await page.evaluate(async () => {
    const stored: string[] = [];
    const settle = <T,>(request: IDBRequest<T>) => new Promise<T>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    for (const { name } of await indexedDB.databases()) {
      if (!name?.startsWith('cipherpath-')) continue;
      const db = await settle(indexedDB.open(name));
      for (const store of Array.from(db.objectStoreNames)) {
        const count = await settle(db.transaction(store).objectStore(store).count());
        if (count > 0) stored.push(`${name}/${store}: ${count}`);
      }
      db.close();
    }
    return stored;
  });
  expect(leftovers).toEqual([]);
  await other.reload();
  await expect(other.getByTestId('library-count')).toContainText('0 tile(s) in this browser');
});
