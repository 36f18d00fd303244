// The ViT worker runs tfjs's threaded SIMD wasm build (its pthreads served same-origin under the page's CSP): the
// workstation check measures the tiny model on 1 and 2 threads in fresh workers, the tokens agree within 1e-5, tfjs
// reports the thread count it was asked for, and no main-thread task exceeds 50 ms while the worker computes.
import { expect, test } from '@playwright/test';

test('threaded wasm gives the single-threaded tokens without blocking the page', async ({ page }) => {
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto('/benchmark');
  await page.getByTestId('backend-availability').waitFor();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(page.getByTestId('wasm-threads')).toHaveText(cores <= 2 ? `${cores} threads` : `${cores - 1} threads`);
  await page.getByRole('radio', { name: 'The bundled tiny demo model' }).check();
  for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) {
    const box = page.locator(`input[name="backend"][value="${backend}"]`);
    if (await box.isEnabled()) await box.setChecked(backend === 'wasm');
  }
  await page.locator('input[name="batch"][value="8"]').setChecked(false);
  await page.getByLabel('WebAssembly threads (comma-separated)').fill('1,2');
  await page.getByLabel('Timed runs').fill('2');
  const before = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks.length);
  await page.getByRole('button', { name: 'Run workstation check' }).click();
  const json = page.getByTestId('benchmark-json');
  await json.waitFor({ state: 'attached', timeout: 180_000 });
  const report = JSON.parse(await json.inputValue()) as { rows: { threads: number | null; status: string; reason: string | null; maxAbsDiff: number | null; reference: string | null }[] };
  const longTasks = await page.evaluate((from) => (window as unknown as { __longTasks: number[] }).__longTasks.slice(from), before);

  expect(report.rows.map((r) => [r.threads, r.status, r.reason])).toEqual([
    [1, 'measured', null],
    [2, 'measured', null],
  ]);
  const threaded = report.rows[1];
  expect(threaded?.reference).toBe('wasm');
  expect(threaded?.maxAbsDiff).not.toBeNull();
  expect(threaded?.maxAbsDiff as number).toBeLessThanOrEqual(1e-5);
  expect(longTasks.filter((ms) => ms > 50), 'main-thread tasks over 50 ms during extraction').toEqual([]);
  expect(cspViolations).toEqual([]);
});
