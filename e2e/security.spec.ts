// The strict Content-Security-Policy holds in practice: every page, and the demo that exercises both workers (SEAL
// and tfjs wasm), runs without a single CSP violation, and every document carries the security headers.
import { expect, test } from '@playwright/test';

const PAGES = ['/slides', '/federation', '/inference', '/privacy', '/settings', '/admin', '/benchmark', '/demo'];

test('no page or worker violates the Content-Security-Policy, and every document carries the headers', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __csp?: string[] }).__csp ??= [];
      (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  for (const path of PAGES) {
    const response = await page.goto(path);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy'], path).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options'], path).toBe('nosniff');
    expect(headers['cross-origin-opener-policy'], path).toBe('same-origin');
    expect(headers['cross-origin-embedder-policy'], path).toBe('require-corp');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  }
  // The demo loads node-seal's wasm in the HE worker and tfjs in the ViT worker, then runs every step.
  await page.getByRole('button', { name: 'Run three-clinic demo' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Demo complete' })).toBeVisible({ timeout: 60_000 });
  const recorded = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
  expect([...violations, ...recorded]).toEqual([]);
  // The listener would have caught one: an inline script is refused under this policy.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.append(s);
  });
  await expect.poll(() => page.evaluate(() => ((window as unknown as { __csp?: string[] }).__csp ?? []).length)).toBeGreaterThan(0);
});
