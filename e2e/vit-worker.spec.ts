// The ViT runs in its module worker: WebGPU (SwiftShader here) and the wasm fallback give the same [CLS] tokens,
// and the page's main thread never blocks for more than 50 ms while tiles are being extracted.
import { type Browser, expect, test } from '@playwright/test';
import { observeLongTasks } from './app-helpers.ts';

async function extract(browser: Browser, backend: string): Promise<{ tokens: number[][]; longTasks: number[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await observeLongTasks(page);
  await page.goto(`/?backend=${backend}`);
  await page.getByRole('button', { name: 'Load sample tiles' }).click();
  await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
  const started = await page.evaluate(() => performance.now());
  await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
  await expect(page.getByTestId('token-summary')).toContainText('3 token(s)');
  const ended = await page.evaluate(() => performance.now());
  await expect(page.getByTestId('backend-name')).toHaveText(backend);
  const tokens = JSON.parse(await page.getByLabel('Token values (JSON)').inputValue()) as number[][];
  const longTasks = await page.evaluate(
    ([from, to]) =>
      (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks
        .filter((t) => t.start >= (from as number) && t.start <= (to as number))
        .map((t) => t.duration),
    [started, ended],
  );
  // The observer itself works: a deliberate 120 ms busy loop on the main thread is reported.
  await page.evaluate(() => {
    setTimeout(() => {
      const until = performance.now() + 120;
      while (performance.now() < until);
    }, 0);
  });
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { __longTasks: { duration: number }[] }).__longTasks.some((t) => t.duration >= 100)))
    .toBe(true);
  await context.close();
  return { tokens, longTasks };
}

test('WebGPU and wasm extract the same tokens in the worker, without blocking the page', async ({ browser }) => {
  const gpu = await extract(browser, 'webgpu');
  const wasm = await extract(browser, 'wasm');
  expect(gpu.tokens).toHaveLength(3);
  let maxDiff = 0;
  for (const [t, token] of gpu.tokens.entries()) {
    expect(token).toHaveLength(wasm.tokens[t]?.length ?? -1);
    for (const [d, v] of token.entries()) maxDiff = Math.max(maxDiff, Math.abs(v - (wasm.tokens[t]?.[d] ?? NaN)));
  }
  expect(maxDiff).toBeLessThanOrEqual(1e-3);
  expect(gpu.longTasks, 'main-thread tasks over 50 ms during WebGPU extraction').toEqual([]);
  expect(wasm.longTasks, 'main-thread tasks over 50 ms during wasm extraction').toEqual([]);
});
