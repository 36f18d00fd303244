// Admin page (hospital IT): a wrong admin token is refused with a 401 message; the right one stays in this tab's
// sessionStorage only; a federation is created with the preset advice; invite codes are issued, shown once, and one
// of them enrols a clinic on the Federation page; the rounds table and the audit log (with the clinic's enrolment)
// follow, a round can be reset (confirmed twice, audited), the browser verifies the audit hash chain, and the
// background-jobs section says the embedded coordinator has no job queue.
import { expect, test } from '@playwright/test';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { expectNoSeriousA11yViolations, logPageErrors } from './app-helpers.ts';

test('admin: token, create a federation, invite a clinic, rounds, a round reset and a verified audit chain', async ({ browser, page }) => {
  logPageErrors(page, 'admin');
  await page.goto('/admin');
  await expect(page.getByRole('heading', { name: 'Admin', level: 1 })).toBeVisible();

  await page.getByLabel('Admin token').fill('not-the-admin-token');
  await page.getByLabel('Admin token').press('Enter');
  await expect(page.getByRole('alert')).toContainText('401: wrong admin token');
  await expect(page.getByTestId('admin-signed-in')).toHaveCount(0);

  await page.getByLabel('Admin token').fill(E2E_ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('admin-signed-in')).toBeVisible();
  const storage = await page.evaluate(() => ({ local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) }));
  expect(storage.local).not.toContain(E2E_ADMIN_TOKEN);
  expect(storage.session).toContain(E2E_ADMIN_TOKEN);
  await expect(page.getByTestId('audit-chain')).toContainText('Chain verified');
  // The e2e coordinator runs embedded: its background work is in-process, and the page says there is no job queue.
  await expect(page.getByTestId('job-queue')).toContainText('No job queue: this coordinator runs embedded (node:sqlite)');

  // The preset advice follows the expected federation size (src/he aggregationPresetFor).
  await page.getByLabel('Expected clinics').fill('1000');
  await expect(page.getByTestId('preset-hint')).toContainText('For 1000 clinics agg-wide-v1 fits');
  await page.getByLabel('Expected clinics').fill('3');
  await expect(page.getByTestId('preset-hint')).toContainText('For 3 clinics agg-v1 fits');

  const name = `Admin e2e ${Date.now()}`;
  await page.getByLabel('Federation name').fill(name);
  await page.getByLabel('Strategy').selectOption('prototypes');
  await page.getByLabel('Quorum (clinics per round)').fill('2');
  await page.getByLabel('Round length (seconds)').fill('600');
  await page.getByRole('button', { name: 'Create federation' }).click();
  const row = page.getByTestId('federations').getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('agg-v1');
  await expect(row).toContainText('prototypes');
  await expect(row).toContainText('2 clinics');
  await expect(row).toContainText('10 min');

  // "Create" selects the new federation: issue two invite codes, shown once.
  await page.getByLabel('Number of invite codes').fill('2');
  await page.getByRole('button', { name: 'Issue invite codes' }).click();
  const codes = page.getByTestId('invite-codes').locator('code');
  await expect(codes).toHaveCount(2);
  const code = (await codes.first().textContent()) as string;
  expect(code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  await expect(page.getByRole('button', { name: `Copy invite code ${code}` })).toBeVisible();
  await expectNoSeriousA11yViolations(page, '/admin');

  // One of the codes enrols a clinic on the Federation page.
  const clinic = await (await browser.newContext()).newPage();
  logPageErrors(clinic, 'clinic');
  await clinic.goto('/federation');
  await clinic.getByLabel('Invite code').fill(code);
  await clinic.getByLabel('Clinic name').fill('Admin e2e clinic');
  await clinic.getByRole('button', { name: 'Join federation' }).click();
  await expect(clinic.getByTestId('clinic-name')).toHaveText('Admin e2e clinic');

  // The federation declared the shape of the bundled model's prototypes uploads, and the clinic's upload has it.
  await expect(page.getByTestId('round-shape')).toContainText(/Declared upload shape: 1 ciphertext\(s\) per upload at CKKS scale 2\^\d+ \(agg-v1\)/);
  await clinic.getByRole('button', { name: 'Create federation key (founder)' }).click();
  await expect(clinic.getByTestId('key-status')).toHaveText('This clinic holds the federation key.');
  await clinic.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(clinic.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  await clinic.getByRole('button', { name: 'Participate in round 1' }).click();
  await expect(page.getByTestId('rounds').getByRole('row').filter({ hasText: 'collecting uploads' })).toContainText('1 of 2 needed: Admin e2e clinic', { timeout: 60_000 });
  await clinic.context().close();

  // Rounds and the audit log follow (the page polls); the chain still verifies with the clinic's entries in it.
  const enrolment = page.getByTestId('audit-log').getByRole('row').filter({ hasText: 'clinic.enrolled' }).filter({ hasText: 'Admin e2e clinic' });
  await expect(enrolment).toHaveCount(1, { timeout: 15_000 });
  await expect(page.getByTestId('audit-chain')).toContainText('Chain verified');
  await expect(page.getByTestId('rounds').getByRole('row').nth(1).getByRole('cell').nth(3)).toHaveText('1');
  await expect(page.getByTestId('round-set-aside')).toHaveText('—');

  // A stuck or poisoned round can be reset from here, after a second confirmation; the reset is audited.
  await page.getByRole('button', { name: 'Reset round 1' }).click();
  await page.getByRole('button', { name: 'Keep round 1' }).click();
  await page.getByRole('button', { name: 'Reset round 1' }).click();
  await page.getByRole('button', { name: 'Drop 1 upload(s) and collect round 1 again' }).click();
  await expect(page.getByTestId('audit-log').getByRole('row').filter({ hasText: 'round.reset' })).toHaveCount(1, { timeout: 15_000 });
  await expect(page.getByTestId('rounds').getByRole('row').filter({ hasText: 'collecting uploads' })).toContainText('0 of 2 needed');
  await expect(page.getByTestId('audit-chain')).toContainText('Chain verified');

  // The token survives a reload of this tab, and signing out forgets it.
  await page.reload();
  await expect(page.getByTestId('admin-signed-in')).toBeVisible();
  await page.getByRole('button', { name: 'Forget the admin token' }).click();
  await expect(page.getByLabel('Admin token')).toBeVisible();
  expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(E2E_ADMIN_TOKEN);
});
