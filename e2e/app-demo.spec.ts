// Demo day: the "Run three-clinic demo" button takes three simulated clinics through a whole federation over the
// real coordinator (demo mode), started from the keyboard, including encrypted inference at the coordinator that
// agrees with the plaintext check, and ends with a status region saying "Demo complete".
import { expect, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, logPageErrors } from './app-helpers.ts';

test('the three-clinic demo runs end to end from the keyboard in under 60 s', async ({ page }) => {
  logPageErrors(page, 'demo');
  await page.goto('/demo');
  const button = page.getByRole('button', { name: 'Run three-clinic demo' });
  await button.focus();
  const started = Date.now();
  await page.keyboard.press('Enter');
  const status = page.getByRole('status').filter({ hasText: 'Demo complete' });
  await expect(status).toBeVisible({ timeout: 60_000 });
  expect(Date.now() - started).toBeLessThan(60_000);
  for (const step of ['federation', 'join', 'key', 'extract', 'encrypt', 'aggregate', 'decrypt', 'evaluate', 'inference']) {
    await expect(page.getByTestId(`demo-step-${step}`)).toHaveAttribute('data-status', 'done');
  }
  await expect(page.getByTestId('demo-step-key')).toContainText('Relay codes matched on both sides before any key was wrapped');
  await expect(page.getByTestId('demo-step-decrypt')).toContainText('All three clinics decrypted the same model');
  await expect(status).toContainText(/Accuracy [\d.]+% encrypted vs [\d.]+% unencrypted/);
  // Encrypted inference ran at the coordinator and every decrypted answer matched the plaintext check.
  await expect(page.getByTestId('demo-step-inference')).toContainText(/clinic B sent 6 encrypted tiles .* 6 of 6 agree with the plaintext check/);
  await expect(status).toContainText('Encrypted inference at the coordinator agreed with the plaintext check on 6 of 6');
  await expect(page.getByRole('img', { name: /Accuracy per round/ })).toBeVisible();
  await expectNoSeriousA11yViolations(page, '/demo (after the run)');

  // The measured round and the model survive a reload and feed the Federation and Inference pages.
  await page.reload();
  await page.getByRole('link', { name: 'Federation' }).click();
  await expect(page.getByRole('img', { name: /Bytes per round and clinic/ })).toBeVisible();
  await page.getByRole('link', { name: 'Inference' }).click();
  await expect(page.getByLabel('Model', { exact: true })).toContainText('Three-clinic demo');
});
