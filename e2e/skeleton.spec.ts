// The walking skeleton, end to end: three clinics in isolated browser contexts join one federation through the real
// coordinator; the founder creates the key, clinic B receives it through the coordinator wrapped for B alone (after
// both screens show the same relay code before the founder releases it), clinic C imports a passphrase-protected key file; each extracts [CLS]
// tokens with the tiny ViT on WebGPU (SwiftShader), uploads CKKS ciphertexts, and decrypts the homomorphic sum.
// Every request is recorded: only the coordinator's origin, and neither tile bytes nor the secret key in any body.
import { readFileSync } from 'node:fs';
import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import { openKeyFile } from '../src/he/keyfile.ts';
import { decodeBundle } from '../src/protocol/bundle.ts';
import { createFederation, sampleTileSecrets } from './fixtures.ts';
import { LeakScanner } from './leak-scan.ts';
import { relayKey } from './app-helpers.ts';

interface Recorded {
  clinic: string;
  url: string;
  body: Uint8Array | null;
}

const PASSPHRASE = 'correct horse battery staple';

async function readJsonArea(page: Page, label: string): Promise<number[][]> {
  const area = page.getByLabel(label);
  return JSON.parse(await area.inputValue()) as number[][];
}

test('three clinics: tokens → CKKS → homomorphic sum → decrypt, and nothing but ciphertext leaves', async ({ browser, request, baseURL }) => {
  const { codes } = await createFederation(request, 3);
  const recorded: Recorded[] = [];
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const clinic = `Clinic ${String.fromCharCode(65 + i)}`;
    context.on('request', (r) => recorded.push({ clinic, url: r.url(), body: r.postDataBuffer() ? new Uint8Array(r.postDataBuffer() as Buffer) : null }));
    page.on('pageerror', (e) => console.error(`[${clinic}] page error: ${e.message}`));
    await page.goto('/?backend=webgpu');
    await page.getByLabel('Invite code').fill(codes[i] as string);
    await page.getByLabel('Clinic name').fill(clinic);
    await page.getByRole('button', { name: 'Join federation' }).click();
    await expect(page.getByTestId('clinic-name')).toHaveText(clinic);
    pages.push(page);
  }
  const [founder, relayed, fromFile] = pages as [Page, Page, Page];

  // The founder creates the federation key.
  await founder.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(founder.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');

  // Clinic B asks for it; both screens show the same relay code before anything is released; the founder types
  // the code B reads out and releases the key; B confirms and receives it.
  await relayKey(founder, relayed, 'Clinic B');
  // Each side pinned the other's identity on first use: Settings shows B the founder's own fingerprint, and the
  // founder B's, so two people can read them to each other once.
  const [founderSettings, relayedSettings] = await Promise.all([contexts[0], contexts[1]].map(async (c) => {
    const settings = await (c as BrowserContext).newPage();
    await settings.goto('/settings');
    await expect(settings.getByTestId('own-fingerprint')).toHaveText(/^[0-9a-f]{4}( [0-9a-f]{4})+$/i);
    return settings;
  })) as [Page, Page];
  const pinnedAt = (settings: Page, name: string) => settings.getByTestId('pinned-identities').locator('div').filter({ hasText: name }).locator('code');
  await expect(pinnedAt(relayedSettings, 'Clinic A')).toHaveText((await founderSettings.getByTestId('own-fingerprint').textContent()) as string);
  await expect(pinnedAt(founderSettings, 'Clinic B')).toHaveText((await relayedSettings.getByTestId('own-fingerprint').textContent()) as string);
  await Promise.all([founderSettings.close(), relayedSettings.close()]);

  // Clinic C imports a passphrase-protected key file exported by the founder.
  await founder.getByText('Key file (passphrase-protected)').click();
  await founder.getByLabel('Key file passphrase').fill(PASSPHRASE);
  const downloadPromise = founder.waitForEvent('download');
  await founder.getByRole('button', { name: 'Export key file' }).click();
  const keyFile = await (await downloadPromise).path();
  await fromFile.getByLabel('Key file passphrase').fill(PASSPHRASE);
  await fromFile.getByLabel('Key file', { exact: true }).setInputFiles(keyFile);
  await fromFile.getByRole('button', { name: 'Import key file' }).click();
  await expect(fromFile.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  // The key file is a bundle of two sealed keys: the aggregation key and the inference key.
  const sealed = decodeBundle(new Uint8Array(readFileSync(keyFile)));
  expect(sealed).toHaveLength(2);
  const [secretKey, inferenceKey] = await Promise.all(sealed.map((part) => openKeyFile(part, PASSPHRASE)));
  if (!secretKey || !inferenceKey) throw new Error('the key file lacks a key');

  const tokensPerClinic: number[][][] = [];
  for (const [i, page] of pages.entries()) {
    await page.getByLabel('Sample set').selectOption(String(i + 1));
    await page.getByRole('button', { name: 'Load sample tiles' }).click();
    await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
    await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
    await expect(page.getByTestId('token-summary')).toContainText('3 token(s)');
    await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
    tokensPerClinic.push(await readJsonArea(page, 'Token values (JSON)'));
    await page.getByRole('button', { name: 'Encrypt and upload' }).click();
    await expect(page.getByTestId('upload-summary')).toContainText('Uploaded');
  }

  const expected = tokensPerClinic[0]?.map((token, t) => token.map((_, d) => tokensPerClinic.reduce((s, clinic) => s + (clinic[t]?.[d] ?? NaN), 0)));
  for (const page of pages) {
    await expect(page.getByTestId('round-status')).toContainText('closed');
    await page.getByRole('button', { name: 'Download and decrypt the sum' }).click();
    await expect(page.getByTestId('sum-summary')).toBeVisible();
    const sum = await readJsonArea(page, 'Decrypted sum (JSON)');
    expect(sum.length).toBe(expected?.length);
    let maxErr = 0;
    for (const [t, vector] of sum.entries()) {
      expect(vector.length).toBe(expected?.[t]?.length);
      for (const [d, v] of vector.entries()) maxErr = Math.max(maxErr, Math.abs(v - (expected?.[t]?.[d] ?? NaN)));
    }
    expect(maxErr).toBeLessThanOrEqual(1e-6);
  }

  // Privacy of the wire: only the coordinator's origin, and no window of any tile's bytes or pixels in any body.
  const origin = new URL(baseURL as string).origin;
  const scanner = new LeakScanner([...sampleTileSecrets(), { name: 'federation secret key', bytes: secretKey }, { name: 'federation inference key', bytes: inferenceKey }]);
  const firstTile = sampleTileSecrets()[1] as { bytes: Uint8Array };
  expect(scanner.find(new Uint8Array([1, 2, ...firstTile.bytes.subarray(100, 200), 3]))).not.toBeNull(); // the scanner itself works
  expect(scanner.find(secretKey.subarray(1000, 1100))).toContain('secret key');
  expect(scanner.find(inferenceKey.subarray(1000, 1100))).toContain('inference key');
  expect(recorded.filter((r) => r.body && r.url.endsWith('/uploads')).length).toBe(3);
  for (const r of recorded) {
    if (!r.url.startsWith('blob:') && !r.url.startsWith('data:')) expect(new URL(r.url).origin, `${r.clinic} requested ${r.url}`).toBe(origin);
    if (r.body) expect(scanner.find(r.body), `${r.clinic} sent a secret to ${r.url}`).toBeNull();
  }
  await Promise.all(contexts.map((c) => c.close()));
});
