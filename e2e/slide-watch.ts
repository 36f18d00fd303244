// What the slide specs watch on a page: console errors, CSP violations and every request, with each request body
// scanned for any 64-byte window of the slide file (nothing of a slide may leave the browser).
import type { Page } from '@playwright/test';
import { LeakScanner } from './leak-scan.ts';

/** Console errors, CSP violations and every request the page makes, with any body scanned for the slide's bytes. */
export function watch(page: Page, secrets: { name: string; bytes: Uint8Array }[]) {
  const problems: string[] = [];
  const requests: string[] = [];
  const scanner = new LeakScanner(secrets);
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    requests.push(`${r.method()} ${r.url()}`);
    const body = r.postDataBuffer();
    const leak = body ? scanner.find(new Uint8Array(body)) : null;
    if (leak) problems.push(`${r.method()} ${r.url()} carries ${leak}`);
  });
  return { problems, requests };
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
}

/** Collects the page's CSP violations from its first script on (read them with cspViolations). */
export async function recordCspViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __csp?: string[] };
      (w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}
