// Shared helpers of the app specs: axe checks (no serious or critical violations) and page errors surfaced in the log.
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export async function expectNoSeriousA11yViolations(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${where}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

export function logPageErrors(page: Page, who: string): void {
  page.on('pageerror', (e) => console.error(`[${who}] page error: ${e.message}`));
}
