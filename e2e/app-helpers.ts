// Shared helpers of the app specs: axe checks (no serious or critical violations), page errors surfaced in the log,
// a federation of a given strategy with its invite codes, a clinic joining it in its own browser context, the relay,
// and main-thread long tasks recorded from page start.
import AxeBuilder from '@axe-core/playwright';
import { type APIRequestContext, type Browser, expect, type Page } from '@playwright/test';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';

export async function expectNoSeriousA11yViolations(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${where}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

export function logPageErrors(page: Page, who: string): void {
  page.on('pageerror', (e) => console.error(`[${who}] page error: ${e.message}`));
}

/** Records every main-thread task over 50 ms (the longtask entry type) from page start. */
export async function observeLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** Durations (ms, rounded) of the long tasks that started between two of the page's performance.now() readings. */
export const longTasksBetween = (page: Page, from: number, to: number): Promise<number[]> =>
  page.evaluate(([a, b]) => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks.filter((t) => t.start >= (a as number) && t.start <= (b as number)).map((t) => Math.round(t.duration)), [from, to]);

/**
 * The key relay as two people do it: the requester asks, the holder verifies, and both screens show the same 8-digit
 * code while nothing is released yet; the holder types the code the requester reads out and releases the key, the
 * requester confirms and receives it. Returns the code.
 */
export async function relayKey(holder: Page, requester: Page, requesterName: string): Promise<string> {
  await requester.getByRole('button', { name: 'Request the key from a key holder' }).click();
  await expect(requester.getByTestId('relay-status')).toBeVisible();
  const atHolder = holder.getByTestId(`relay-${requesterName}`);
  await atHolder.getByRole('button', { name: `Verify ${requesterName}` }).click();
  const requesterCode = requester.getByTestId('relay-code');
  await expect(requesterCode).toHaveText(/^\d{4} \d{4}$/);
  const code = (await requesterCode.textContent()) as string;
  await expect(atHolder.getByTestId('relay-code')).toHaveText(code);
  // Both people see the code before the key exists in wrapped form anywhere.
  await expect(requester.getByTestId('key-status')).toHaveText('No federation key on this browser yet.');
  await atHolder.getByLabel(`Code read out by ${requesterName}`).fill(code);
  await atHolder.getByRole('button', { name: `Codes match: release the key to ${requesterName}` }).click();
  await requester.getByRole('button', { name: 'Codes match: receive the key' }).click();
  await expect(requester.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  return code;
}

/** Joins the federation of invite `code` on the Federation page as `name`. */
export async function joinFederation(page: Page, code: string, name: string): Promise<void> {
  await page.goto('/federation');
  await page.getByLabel('Invite code').fill(code);
  await page.getByLabel('Clinic name').fill(name);
  await page.getByRole('button', { name: 'Join federation' }).click();
  await expect(page.getByTestId('clinic-name')).toHaveText(name);
}

/** Exports the key holder's passphrase-protected key file; returns where Playwright saved the download. */
export async function exportKeyFile(page: Page, passphrase: string): Promise<string> {
  await page.getByText('Key file (passphrase-protected)').click();
  await page.getByLabel('Key file passphrase').fill(passphrase);
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export key file' }).click();
  return (await download).path();
}

/** Loads the sample tiles and takes part in round 1 of a federation whose quorum is one, until the round is done. */
export async function takePartInRoundOne(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  await page.getByRole('button', { name: 'Participate in round 1' }).click();
  await expect(page.getByTestId('participation-done')).toContainText('Round 1 is done');
}

/** An agg-v1 federation of `strategy` created through the admin API; its invite codes, one per clinic. */
export async function strategyFederation(request: APIRequestContext, opts: { name: string; strategy: string; minClinics: number; roundSeconds?: number }): Promise<string[]> {
  const headers = { authorization: `Bearer ${E2E_ADMIN_TOKEN}` };
  const { name, strategy, minClinics, roundSeconds } = opts;
  const created = await request.post('/api/admin/federations', { headers, data: { name: `${name} ${Date.now()}`, presetId: 'agg-v1', minClinics, strategy, ...(roundSeconds ? { roundSeconds } : {}) } });
  expect(created.ok(), await created.text()).toBe(true);
  const { id } = (await created.json()) as { id: string };
  const invites = await request.post(`/api/admin/federations/${id}/invites`, { headers, data: { count: minClinics } });
  return ((await invites.json()) as { codes: string[] }).codes;
}

/** A clinic in its own browser context, joined with `code` on the federation page. */
export async function joinedClinic(browser: Browser, code: string, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  logPageErrors(page, name);
  await joinFederation(page, code, name);
  return page;
}
