// Secret keys by handle (issue 12 item 3): the page's stores hold a key's HE-worker handle and fingerprint, never its
// bytes. Clinic A creates the keys and takes part in a round, clinic B receives them through the key relay, clinic C
// imports the key file A exported; then every zustand store of each page (exposed by src/app/stores/inspection.ts
// when the test asks for it) is walked and every byte buffer it reaches is scanned for both secret keys, taken from
// the key file (opened in Node).
import { readFileSync } from 'node:fs';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { openKeyFile } from '../src/he/keyfile.ts';
import { decodeBundle } from '../src/protocol/bundle.ts';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { exportKeyFile, joinFederation, logPageErrors, relayKey, takePartInRoundOne } from './app-helpers.ts';
import { LeakScanner } from './leak-scan.ts';

const PASSPHRASE = 'key handles e2e passphrase';

interface StoreBytes {
  path: string;
  base64: string;
}

async function clinicPage(browser: Browser, code: string, name: string): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    (globalThis as { __cipherpathInspect?: boolean }).__cipherpathInspect = true;
  });
  const page = await context.newPage();
  logPageErrors(page, name);
  await joinFederation(page, code, name);
  return page;
}

/** Every ArrayBuffer reachable from any store's state (whole buffers, not just the views), and the key store's state. */
function storeContents(page: Page): Promise<{ buffers: StoreBytes[]; keys: Record<string, unknown> }> {
  return page.evaluate(() => {
    const stores = (globalThis as { __cipherpathStores?: Record<string, { getState(): unknown }> }).__cipherpathStores;
    if (!stores) throw new Error('the stores are not exposed (src/app/stores/inspection.ts)');
    const seen = new WeakSet<object>();
    const buffers: StoreBytes[] = [];
    const base64 = (bytes: Uint8Array) => {
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    };
    const walk = (value: unknown, path: string): void => {
      if (value === null || typeof value !== 'object' || seen.has(value)) return;
      seen.add(value);
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
        const buffer = value instanceof ArrayBuffer ? value : value.buffer;
        if (seen.has(buffer) && buffer !== value) return;
        seen.add(buffer);
        buffers.push({ path, base64: base64(new Uint8Array(buffer)) });
      } else if (value instanceof Map) {
        for (const [k, v] of value) {
          walk(k, `${path}.key(${String(k)})`);
          walk(v, `${path}.get(${String(k)})`);
        }
      } else if (value instanceof Set) {
        let i = 0;
        for (const v of value) walk(v, `${path}.set[${i++}]`);
      } else {
        for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
      }
    };
    for (const [name, store] of Object.entries(stores)) walk(store.getState(), name);
    const keys = stores.keys?.getState() as Record<string, unknown>;
    return { buffers, keys: JSON.parse(JSON.stringify({ aggregation: keys.aggregation, inference: keys.inference })) as Record<string, unknown> };
  });
}

test('the stores hold key handles and fingerprints, never secret-key bytes: after creating, relaying, importing and a round', async ({ browser, request }) => {
  const headers = { authorization: `Bearer ${E2E_ADMIN_TOKEN}` };
  const created = await request.post('/api/admin/federations', { headers, data: { name: `key handles e2e ${Date.now()}`, presetId: 'agg-v1', minClinics: 1, strategy: 'prototypes' } });
  expect(created.ok(), await created.text()).toBe(true);
  const { id } = (await created.json()) as { id: string };
  const codes = ((await (await request.post(`/api/admin/federations/${id}/invites`, { headers, data: { count: 3 } })).json()) as { codes: string[] }).codes as [string, string, string];

  const founder = await clinicPage(browser, codes[0], 'Clinic A');
  await founder.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(founder.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  await takePartInRoundOne(founder);

  const keyFilePath = await exportKeyFile(founder, PASSPHRASE);
  const [aggregationKey, inferenceKey] = await Promise.all(decodeBundle(new Uint8Array(readFileSync(keyFilePath))).map((part) => openKeyFile(part, PASSPHRASE)));
  if (!aggregationKey || !inferenceKey) throw new Error('the key file lacks a key');

  const relayed = await clinicPage(browser, codes[1], 'Clinic B');
  await relayKey(founder, relayed, 'Clinic B');
  const fromFile = await clinicPage(browser, codes[2], 'Clinic C');
  await fromFile.getByLabel('Key file passphrase').fill(PASSPHRASE);
  await fromFile.getByLabel('Key file', { exact: true }).setInputFiles(keyFilePath);
  await fromFile.getByRole('button', { name: 'Import key file' }).click();
  await expect(fromFile.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');

  const scanner = new LeakScanner([
    { name: 'aggregation key', bytes: aggregationKey },
    { name: 'inference key', bytes: inferenceKey },
  ]);
  expect(scanner.find(new Uint8Array([7, ...aggregationKey.subarray(300, 400), 7]))).toContain('aggregation key'); // the scanner works
  const fingerprints = new Set<string>();
  for (const [name, page] of [['Clinic A', founder], ['Clinic B', relayed], ['Clinic C', fromFile]] as const) {
    const { buffers, keys } = await storeContents(page);
    // Each key is named by a handle and a fingerprint, and its presence is known without its bytes.
    expect(keys.aggregation, name).toMatchObject({ handle: expect.any(String), presetId: 'agg-v1', federationId: id, fingerprint: expect.stringMatching(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/) });
    expect(keys.inference, name).toMatchObject({ presetId: 'inf-v1', federationId: id });
    fingerprints.add(`${(keys.aggregation as { fingerprint: string }).fingerprint} ${(keys.inference as { fingerprint: string }).fingerprint}`);
    for (const b of buffers) expect(scanner.find(new Uint8Array(Buffer.from(b.base64, 'base64'))), `${name}: store ${b.path}`).toBeNull();
    if (name === 'Clinic A') expect(buffers.some((b) => b.path.startsWith('tiles.tokens')), 'the walk reaches the tokens the tiles store holds').toBe(true);
  }
  // Three browsers, the same two keys.
  expect(fingerprints.size).toBe(1);
  await Promise.all([founder, relayed, fromFile].map((p) => p.context().close()));
});
