// The app's round client against the real coordinator, driven from the browser: two clinics take part in a
// prototypes round with the one-click Participate action (the round store, src/fl's LiveRound, the RoundClient that
// app/lib/round-client.ts binds to the HE worker and the SPA's API client, the coordinator the Playwright webServer
// started). The decrypted aggregate each clinic keeps (the round's model, in its results store) is the pooled class
// means of both clinics' tokens as their pages show them; and while clinic A waits for B, its status line, timeline
// and participation follow the round through one poller: one status read per second, never two at once.
import { expect, type Page, test } from '@playwright/test';
import { joinedClinic, relayKey, strategyFederation } from './app-helpers.ts';

async function tokensOf(page: Page, sampleSet: string): Promise<number[][]> {
  await page.getByLabel('Sample set').selectOption(sampleSet);
  await page.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('token-summary')).toContainText('3 token(s)');
  return JSON.parse(await page.getByLabel('Token values (JSON)').inputValue()) as number[][];
}

interface StoredHead {
  federationId: string;
  round: number;
  classes: number;
  dim: number;
  weights: number[];
  biases: number[];
}

const storedHeads = (page: Page) => page.evaluate(() => (JSON.parse(localStorage.getItem('cipherpath-results') ?? '{}') as { state?: { heads?: StoredHead[] } }).state?.heads ?? []);

test("the app's round client takes a real round to the pooled class means, following it with one poller", async ({ browser, request }) => {
  const [codeA, codeB] = (await strategyFederation(request, { name: 'round client e2e', strategy: 'prototypes', minClinics: 2 })) as [string, string];
  const a = await joinedClinic(browser, codeA, 'Clinic A');
  const statusReads: number[] = [];
  a.on('request', (r) => {
    if (r.method() === 'GET' && /\/rounds\/1$/.test(new URL(r.url()).pathname)) statusReads.push(Date.now());
  });
  await a.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(a.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  const tokensA = await tokensOf(a, '1');
  await a.getByRole('button', { name: 'Participate in round 1' }).click();
  await expect(a.getByTestId('participation-step')).toContainText('waiting for the other clinics (1 of 2 needed have submitted)');
  const waitingFrom = Date.now();

  const b = await joinedClinic(browser, codeB, 'Clinic B');
  await relayKey(a, b, 'Clinic B');
  const tokensB = await tokensOf(b, '2');
  if (Date.now() - waitingFrom < 6000) await a.waitForTimeout(6000 - (Date.now() - waitingFrom));
  const whileWaiting = statusReads.filter((t) => t >= waitingFrom);
  const gaps = whileWaiting.slice(1).map((t, i) => t - (whileWaiting[i] as number));
  expect(whileWaiting.length, `status reads while waiting: ${whileWaiting.length}`).toBeGreaterThanOrEqual(4);
  expect(Math.min(...gaps), `gaps between status reads (ms): ${gaps.join(', ')}`).toBeGreaterThanOrEqual(800);

  await b.getByRole('button', { name: 'Participate in round 1' }).click();
  for (const page of [a, b]) await expect(page.getByTestId('participation-done')).toContainText('Round 1 is done: the shared model was decrypted');

  // Each sample set holds one tile per class, so class c's pooled mean is (A's token + B's token of that class) / 2:
  // every row of the decrypted head is one such mean, each clinic's tokens used once, and the bias is -|mean|^2 / 2.
  const [headA, headB] = await Promise.all([a, b].map(async (page) => (await storedHeads(page)).find((h) => h.round === 1) as StoredHead));
  expect(headA && headB, 'both clinics stored the round-1 model').toBeTruthy();
  const { classes, dim } = headA as StoredHead;
  expect([classes, dim]).toEqual([3, tokensA[0]?.length]);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  for (let c = 0; c < classes; c++) {
    const row = (headA as StoredHead).weights.slice(c * dim, (c + 1) * dim);
    let best = { err: Infinity, i: -1, j: -1 };
    tokensA.forEach((ta, i) =>
      tokensB.forEach((tb, j) => {
        const err = row.reduce((m, w, d) => Math.max(m, Math.abs(w - ((ta[d] as number) + (tb[d] as number)) / 2)), 0);
        if (err < best.err) best = { err, i, j };
      }),
    );
    expect(best.err, `class ${c}: max |W - pooled mean|`).toBeLessThan(1e-4);
    usedA.add(best.i);
    usedB.add(best.j);
    const norm2 = row.reduce((s, w) => s + w * w, 0);
    expect(Math.abs(((headA as StoredHead).biases[c] as number) + norm2 / 2)).toBeLessThan(1e-3);
  }
  expect([usedA.size, usedB.size]).toEqual([3, 3]);
  // The other clinic decrypted the same aggregate.
  const spread = (headA as StoredHead).weights.reduce((m, w, k) => Math.max(m, Math.abs(w - ((headB as StoredHead).weights[k] as number))), 0);
  expect(spread).toBeLessThan(1e-6);
});
