// Encrypted inference in the app, on a real federation: a one-clinic prototypes federation trains its head in one
// round; the key holder publishes it (head encrypted) from the Inference page; the clinic classifies its tiles through
// the coordinator and the decrypted answers agree with the local plaintext check. Every request body is scanned for
// both secret keys, taken from the exported key file (opened in Node); a key file from before encrypted inference is
// refused with a precise message.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openKeyFile, sealKeyFile } from '../src/he/keyfile.ts';
import { FLOODED_PRECISION } from '../src/he/noise-flooding.ts';
import { decodeBundle } from '../src/protocol/bundle.ts';
import { decodeInferenceModel } from '../src/protocol/inference-model.ts';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { expectNoSeriousA11yViolations, exportKeyFile, joinFederation, logPageErrors, takePartInRoundOne } from './app-helpers.ts';
import { LeakScanner } from './leak-scan.ts';

const PASSPHRASE = 'inference e2e passphrase';

test('publish the head encrypted, classify through the coordinator, agree with the local check, no key on the wire; a head published in clear leaves noise-flooded', async ({ browser, request }) => {
  const headers = { authorization: `Bearer ${E2E_ADMIN_TOKEN}` };
  const created = await request.post('/api/admin/federations', { headers, data: { name: `inference e2e ${Date.now()}`, presetId: 'agg-v1', minClinics: 1, strategy: 'prototypes' } });
  expect(created.ok(), await created.text()).toBe(true);
  const { id } = (await created.json()) as { id: string };
  const [code, lateCode] = ((await (await request.post(`/api/admin/federations/${id}/invites`, { headers, data: { count: 2 } })).json()) as { codes: string[] }).codes as [string, string];

  const context = await browser.newContext();
  const bodies: { url: string; body: Uint8Array }[] = [];
  context.on('request', (r) => {
    const body = r.postDataBuffer();
    if (body) bodies.push({ url: r.url(), body: new Uint8Array(body) });
  });
  const page = await context.newPage();
  logPageErrors(page, 'inference clinic');
  await joinFederation(page, code, 'Clinic A');
  await page.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(page.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  const keyFile = new Uint8Array(readFileSync(await exportKeyFile(page, PASSPHRASE)));
  const sealed = decodeBundle(keyFile);
  expect(sealed).toHaveLength(2);
  const [aggregationKey, inferenceKey] = await Promise.all(sealed.map((part) => openKeyFile(part, PASSPHRASE)));
  if (!aggregationKey || !inferenceKey) throw new Error('the key file lacks a key');

  // One round with a quorum of one trains the nearest-class-mean head.
  await takePartInRoundOne(page);

  await page.getByRole('link', { name: 'Inference' }).click();
  await expect(page.getByTestId('encrypted-availability')).toContainText('no model is published for encrypted inference yet: a key holder publishes it on this page');
  const publishedFrom = bodies.length;
  await expect(page.getByRole('radio', { name: 'Encrypted (recommended)' })).toBeChecked();
  await page.getByRole('button', { name: 'Publish model for encrypted inference' }).click();
  await expect(page.getByTestId('publish-note')).toContainText('the head encrypted (the coordinator sees only ciphertexts), batched layout');
  await expect(page.getByTestId('encrypted-availability')).toContainText("The coordinator serves this federation's model for encrypted inference (encrypted head, batched layout, 3 classes × 192)");

  await page.getByRole('button', { name: 'Select all 3' }).click();
  await page.getByRole('button', { name: 'Classify 3 selected tile(s)' }).click();
  await expect(page.getByTestId('inference-summary')).toContainText('agrees with the local plaintext check on 3 of 3 tile(s) (encrypted head, batched layout');
  await expect(page.getByLabel('Classification progress')).toHaveAttribute('value', '3');
  await expect(page.getByTestId('encrypted-prediction')).toHaveCount(3);
  await expect(page.getByTestId('encrypted-prediction').first()).toContainText(/(adenocarcinoma|benign tissue|squamous cell carcinoma) \(\d/);
  await expect(page.getByTestId('agreement')).toHaveText(Array(3).fill(/^yes/));
  await expect(page.getByTestId('inference-mismatch')).toHaveCount(0);
  await expectNoSeriousA11yViolations(page, '/inference (encrypted results)');

  // Publishing and inference sent evaluation keys, a model and ciphertexts, and neither secret key.
  const scanner = new LeakScanner([
    { name: 'aggregation key', bytes: aggregationKey },
    { name: 'inference key', bytes: inferenceKey },
  ]);
  expect(scanner.find(new Uint8Array([9, ...inferenceKey.subarray(500, 600), 9]))).toContain('inference key'); // the scanner works
  const published = bodies.slice(publishedFrom);
  for (const path of ['/evaluation-keys/galois-keys', '/evaluation-keys/relin-keys', '/inference-model', '/inference']) {
    expect(published.some((b) => b.url.endsWith(path)), `a request to …${path}`).toBe(true);
  }
  for (const b of bodies) expect(scanner.find(b.body), `a secret key in the body sent to ${b.url}`).toBeNull();

  // Published in clear, the head leaves noise-flooded: every number on the 1e-6 grid (a raw CKKS decryption carries
  // noise far below it), and not all of them 0.
  const clearFrom = bodies.length;
  await page.getByRole('radio', { name: /In clear/ }).check();
  await page.getByRole('button', { name: 'Publish model for encrypted inference' }).click();
  await expect(page.getByTestId('encrypted-availability')).toContainText('head in clear');
  const clearModel = bodies.slice(clearFrom).find((b) => b.url.endsWith('/inference-model'));
  if (!clearModel) throw new Error('no inference model was published in clear');
  const wire = decodeInferenceModel(clearModel.body);
  if (wire.encrypted) throw new Error('the model published in clear came out encrypted');
  const values = [...wire.weights, ...wire.biases];
  expect(values).toHaveLength(3 * 192 + 3);
  expect(values.filter((v) => Math.abs(v / FLOODED_PRECISION - Math.round(v / FLOODED_PRECISION)) > 1e-3)).toEqual([]);
  expect(values.some((v) => v !== 0)).toBe(true);

  // A key file from before encrypted inference (one sealed key, not a bundle of two) is refused with what to do.
  const lateContext = await browser.newContext();
  const late = await lateContext.newPage();
  logPageErrors(late, 'late clinic');
  await joinFederation(late, lateCode, 'Clinic B');
  await late.getByLabel('Key file passphrase').fill(PASSPHRASE);
  await late.getByLabel('Key file', { exact: true }).setInputFiles({ name: 'old.cpkey', mimeType: 'application/octet-stream', buffer: Buffer.from(await sealKeyFile(aggregationKey, PASSPHRASE)) });
  await late.getByRole('button', { name: 'Import key file' }).click();
  await expect(late.getByRole('alert')).toContainText('old.cpkey holds a single key, from a cipherpath version before encrypted inference; export a new key file from a key holder');
  await Promise.all([context.close(), lateContext.close()]);
});
