// The key relay against a coordinator that rewrites its own answers, in two real browsers. The rewrite is done by
// intercepting the coordinator's relay listing in one clinic's browser (page.route), which is exactly what a
// malicious coordinator could serve that clinic. Either the two screens show different codes and the holder's
// person refuses, or the holder's browser notices the broken commitment by itself; in both cases the relay stops
// visibly on both screens, no wrapped key is ever posted, and the abort is in the coordinator's audit log.
import { type APIRequestContext, type Browser, expect, type Page, type Request, test } from '@playwright/test';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { expectNoSeriousA11yViolations, logPageErrors } from './app-helpers.ts';

const admin = { authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

async function federation(request: APIRequestContext): Promise<[string, string]> {
  const created = await request.post('/api/admin/federations', { headers: admin, data: { name: `relay attack ${Date.now()}`, presetId: 'agg-v1', minClinics: 2 } });
  expect(created.ok(), await created.text()).toBe(true);
  const { id } = (await created.json()) as { id: string };
  const invites = await request.post(`/api/admin/federations/${id}/invites`, { headers: admin, data: { count: 2 } });
  return ((await invites.json()) as { codes: string[] }).codes as [string, string];
}

async function clinic(browser: Browser, code: string, name: string, wraps: string[]): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  logPageErrors(page, name);
  page.on('request', (r: Request) => {
    if (r.method() === 'PUT' && r.url().includes('/key-relays/') && r.url().endsWith('/wrapped')) wraps.push(`${name}: ${r.url()}`);
  });
  await page.goto('/federation');
  await page.getByLabel('Invite code').fill(code);
  await page.getByLabel('Clinic name').fill(name);
  await page.getByRole('button', { name: 'Join federation' }).click();
  await expect(page.getByTestId('clinic-name')).toHaveText(name);
  return page;
}

/** A valid P-256 point that is not any clinic's key: what the coordinator would substitute. */
async function attackerKey(): Promise<string> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  return Buffer.from(await crypto.subtle.exportKey('raw', pair.publicKey)).toString('base64');
}

/** Rewrites one field of every relay in the listing this page receives, once the real coordinator has filled it. */
const RELAY_LIST = /\/api\/federations\/[^/]+\/key-relays$/;

async function substitute(page: Page, field: 'holderEphemeralKey' | 'holderIdentityKey' | 'requesterEphemeralKey'): Promise<void> {
  const forged = await attackerKey();
  await page.unroute(RELAY_LIST);
  await page.route(RELAY_LIST, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const response = await route.fetch();
    const relays = (await response.json()) as Record<string, unknown>[];
    await route.fulfill({ response, json: relays.map((r) => (r[field] ? { ...r, [field]: forged } : r)) });
  });
}

async function expectAudited(request: APIRequestContext, reason: string): Promise<void> {
  const audit = (await (await request.get('/api/admin/audit', { headers: admin })).json()) as { action: string; detail: string }[];
  expect(audit.filter((e) => e.action === 'key-relay.aborted').map((e) => JSON.parse(e.detail).reason)).toContain(reason);
}

async function setUp(browser: Browser, request: APIRequestContext, wraps: string[]): Promise<{ holder: Page; requester: Page }> {
  const [codeA, codeB] = await federation(request);
  const holder = await clinic(browser, codeA, 'Clinic A', wraps);
  await holder.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(holder.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  const requester = await clinic(browser, codeB, 'Clinic B', wraps);
  return { holder, requester };
}

test('a substituted holder key: the two screens show different codes, the holder refuses, nothing is released; a retry with a swapped identity is flagged', async ({ browser, request }) => {
  const wraps: string[] = [];
  const { holder, requester } = await setUp(browser, request, wraps);
  await substitute(requester, 'holderEphemeralKey');
  await requester.getByRole('button', { name: 'Request the key from a key holder' }).click();
  const atHolder = holder.getByTestId('relay-Clinic B');
  await atHolder.getByRole('button', { name: 'Verify Clinic B' }).click();
  // Both people see a code before anything is wrapped, and the codes differ.
  const requesterCode = requester.getByTestId('relay-code');
  await expect(requesterCode).toHaveText(/^\d{4} \d{4}$/);
  await expect(atHolder.getByTestId('relay-code')).toHaveText(/^\d{4} \d{4}$/);
  const readOut = (await requesterCode.textContent()) as string;
  expect(await atHolder.getByTestId('relay-code').textContent()).not.toBe(readOut);
  await expectNoSeriousA11yViolations(holder, '/federation (holder comparing relay codes)');
  // The holder's person types what the requester's person reads out: it does not match, so nothing is wrapped.
  await atHolder.getByLabel('Code read out by Clinic B').fill(readOut);
  await atHolder.getByRole('button', { name: 'Codes match: release the key to Clinic B' }).click();
  await expect(holder.getByTestId('relay-aborted')).toContainText('the two codes did not match. No key was released.');
  await expect(requester.getByTestId('relay-aborted')).toContainText('the two codes did not match');
  await expect(requester.getByRole('button', { name: 'Request the key again' })).toBeVisible();
  await expect(requester.getByTestId('key-status')).toHaveText('No federation key on this browser yet.');
  expect(wraps).toEqual([]);
  await expectAudited(request, 'code-mismatch');

  // B asks again and the coordinator now swaps A's identity key: B pinned A's real one when it first saw it, so its
  // screen flags the change; the codes differ again and this time B's person stops the relay.
  await substitute(requester, 'holderIdentityKey');
  await requester.getByRole('button', { name: 'Request the key again' }).click();
  await holder.getByRole('button', { name: 'Verify Clinic B' }).click();
  await expect(requester.getByTestId('identity-warning')).toContainText('The coordinator shows Clinic A with another identity key');
  await expect(holder.getByTestId('relay-code')).toHaveText(/^\d{4} \d{4}$/);
  expect(await holder.getByTestId('relay-code').textContent()).not.toBe(await requester.getByTestId('relay-code').textContent());
  await requester.getByRole('button', { name: 'Codes differ: stop' }).click();
  await expect(requester.getByTestId('relay-aborted')).toContainText('the two codes did not match');
  await expect(holder.getByRole('button', { name: /Codes match/ })).toHaveCount(0);
  expect(wraps).toEqual([]);
});

test('a substituted requester key: the holder’s browser finds the broken commitment and stops before showing a code', async ({ browser, request }) => {
  const wraps: string[] = [];
  const { holder, requester } = await setUp(browser, request, wraps);
  await substitute(holder, 'requesterEphemeralKey');
  await requester.getByRole('button', { name: 'Request the key from a key holder' }).click();
  await holder.getByTestId('relay-Clinic B').getByRole('button', { name: 'Verify Clinic B' }).click();
  await expect(holder.getByTestId('relay-aborted')).toContainText('did not match what it committed to');
  await expect(holder.getByRole('button', { name: /Codes match/ })).toHaveCount(0);
  await expect(requester.getByTestId('relay-aborted')).toBeVisible();
  await expect(requester.getByTestId('key-status')).toHaveText('No federation key on this browser yet.');
  expect(wraps).toEqual([]);
  await expectAudited(request, 'commitment-mismatch');
});
