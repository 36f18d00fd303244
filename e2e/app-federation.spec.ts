// Federation page: two clinics take part in a prototypes round with the one-click Participate action; clinic A
// reloads while the round is collecting and resumes waiting, then decrypts the shared model once clinic B uploads.
// The timeline shows who submitted and the results section charts the measured round.
import { expect, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, joinedClinic as clinic, relayKey, strategyFederation } from './app-helpers.ts';

test('participate, reload in the middle of the round, resume and decrypt the shared model', async ({ browser, request }) => {
  const [codeA, codeB] = (await strategyFederation(request, { name: 'app e2e', strategy: 'prototypes', minClinics: 2 })) as [string, string];
  const a = await clinic(browser, codeA, 'Clinic A');
  await a.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(a.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  await a.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(a.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  const participate = a.getByRole('button', { name: 'Participate in round 1' });
  await participate.focus();
  await a.keyboard.press('Enter');
  await expect(a.getByTestId('participation-step')).toContainText('waiting for the other clinics (1 of 2 needed have submitted)');
  await expect(a.getByTestId('upload-summary')).toContainText('to round 1');
  await expect(a.getByTestId('timeline')).toContainText('Round 1: open, collecting uploads · deadline in');
  await expect(a.getByTestId('timeline')).toContainText('1 of 2 needed submitted (1 enrolled): Clinic A');
  await expectNoSeriousA11yViolations(a, '/federation (waiting)');

  // Reload in the middle of the round: the key, the upload and the participation come back, and waiting resumes.
  await a.reload();
  await expect(a.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  await expect(a.getByTestId('upload-summary')).toContainText('to round 1');
  await expect(a.getByTestId('round-status')).toContainText('collecting — 1/2 clinics submitted (Clinic A)');
  await expect(a.getByTestId('participation-step')).toContainText('waiting for the other clinics');

  // Clinic B joins, receives the key through the relay, and takes part.
  const b = await clinic(browser, codeB, 'Clinic B');
  await relayKey(a, b, 'Clinic B');
  await b.getByLabel('Sample set').selectOption('2');
  await b.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(b.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  await b.getByRole('button', { name: 'Participate in round 1' }).click();

  for (const page of [a, b]) {
    await expect(page.getByTestId('participation-done')).toContainText('Round 1 is done: the shared model was decrypted');
    await expect(page.getByRole('img', { name: /Accuracy per round/ })).toBeVisible();
  }
  await expect(a.getByTestId('timeline')).toContainText('Round 1: closed · 2 of 2 needed submitted (2 enrolled): Clinic A, Clinic B');
  await expectNoSeriousA11yViolations(a, '/federation (done)');
  // The model from the round is offered on the Inference page.
  await a.getByRole('link', { name: 'Inference' }).click();
  await expect(a.getByLabel('Model', { exact: true })).toContainText('round 1 (prototypes');
});
