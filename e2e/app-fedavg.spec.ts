// fedavg-head in the browser: an admin-created federation (quorum 2), two clinics in two browser contexts with
// labelled sample tiles (clinic B receives the key through the relay). Each round every clinic trains the head
// locally from the last global head (src/fl trainHead in a worker), uploads Enc([n·W, n·b, n]), and decrypts the
// weighted mean. Both clinics end each round with the same global head (same checksum), round 2 starts from round 1's
// head, the accuracy chart has both rounds, and a reload keeps everything.
import { type Browser, expect, type Page, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, joinedClinic, relayKey, strategyFederation } from './app-helpers.ts';

async function clinic(browser: Browser, code: string, name: string, sampleSet: string): Promise<Page> {
  const page = await joinedClinic(browser, code, name);
  await page.getByLabel('Sample set').selectOption(sampleSet);
  await page.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  return page;
}

const checksum = async (page: Page, testId: string) => (await page.getByTestId(testId).textContent()) as string;

async function finishRound(pages: Page[], round: number): Promise<string> {
  const sums: string[] = [];
  for (const page of pages) {
    await expect(page.getByTestId('participation-done')).toContainText(`Round ${round} is done: the new global head was decrypted`);
    await expect(page.getByTestId('fedavg-global-checksum')).toHaveText(/^[0-9a-f]{16}$/);
    sums.push(await checksum(page, 'fedavg-global-checksum'));
  }
  expect(new Set(sums).size, `global heads after round ${round}: ${sums.join(' vs ')}`).toBe(1);
  return sums[0] as string;
}

test('fedavg-head: two clinics, two rounds, the same global head, round 2 starts from round 1', async ({ browser, request }) => {
  const [codeA, codeB] = (await strategyFederation(request, { name: 'fedavg e2e', strategy: 'fedavg-head', minClinics: 2, roundSeconds: 600 })) as [string, string];
  const a = await clinic(browser, codeA, 'Clinic A', '1');
  await a.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(a.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  const b = await clinic(browser, codeB, 'Clinic B', '2');
  await relayKey(a, b, 'Clinic B');

  // Round 1 from the zero head, with a chosen number of local epochs.
  for (const page of [a, b]) {
    await page.getByLabel('Local epochs').fill('3');
    await page.getByRole('button', { name: 'Participate in round 1' }).click();
  }
  const round1 = await finishRound([a, b], 1);
  for (const page of [a, b]) await expect(page.getByTestId('fedavg-summary')).toContainText(/3 epoch\(s\) on 2 tile\(s\), 1 held out, on (webgpu|webgl|wasm|cpu)\) started from the zero head/);
  await expectNoSeriousA11yViolations(a, '/federation (fedavg-head)');

  // Round 2 opens once round 1 closed; each clinic starts from round 1's global head.
  for (const page of [a, b]) await page.getByRole('button', { name: 'Participate in round 2' }).click();
  const round2 = await finishRound([a, b], 2);
  expect(round2).not.toBe(round1);
  for (const page of [a, b]) {
    await expect(page.getByTestId('fedavg-start-checksum')).toHaveText(round1);
    // Both rounds' validation accuracies are charted.
    await expect(page.getByRole('img', { name: /Accuracy per round.*encrypted domain \d+(\.\d)?%, \d+(\.\d)?%;/ })).toBeVisible();
  }

  // Nothing is lost on reload: the participation and both rounds' global heads are stored.
  await a.reload();
  await expect(a.getByTestId('fedavg-global-checksum')).toHaveText(round2);
  await expect(a.getByTestId('fedavg-start-checksum')).toHaveText(round1);
  const storedRounds = await a.evaluate(() => Object.values(JSON.parse(localStorage.getItem('cipherpath-fedavg-heads') ?? '{}') as Record<string, Record<string, { checksum: string }>>).flatMap((r) => Object.entries(r).map(([k, v]) => `${k}:${v.checksum}`)));
  expect(storedRounds.sort()).toEqual([`1:${round1}`, `2:${round2}`]);
});
