// The ViT worker streams model.safetensors tensor by tensor (src/vit/stream-load.ts): from the server (a fetch body) and
// from a picked folder (File streams) it gives the tokens `npm run embed` computes from the whole file within 1e-5,
// holding one tensor's bytes at a time; a picked file with one byte flipped is refused with the checksum error; and
// under a simulated WebGPU buffer limit (the workstation check's "smaller device") the model splits its dense kernels
// into column blocks and runs fewer images per pass, never creating a larger GPU buffer, with the tokens of wasm, or,
// when its patch-embedding kernel cannot fit, is refused on WebGPU with the tensor named and runs on wasm instead.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { logPageErrors } from './app-helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const TINY = join(ROOT, 'public', 'models', 'tiny');
const MODEL_FILES = ['manifest.json', 'config.json', 'preprocessor_config.json', 'model.safetensors'];

interface BenchmarkRowJson {
  backend: string;
  batch: number;
  status: string;
  reason: string | null;
  maxAbsDiff: number | null;
  reference: string | null;
  memory: { peakBytes: number; largestGpuBufferBytes?: number; wasmHeapBytes?: number } | null;
  load: { bytes: number; peakBufferedBytes: number; webgpuPlan?: { limitBytes: number; maxBatch: number; split: { blocks: number }[]; largestBytes: number } } | null;
}

/** Node's tokens for sample set 1 (the first tile of every class, in class order) from the whole model file. */
function embedInNode(folder: string): number[][] {
  const index = JSON.parse(readFileSync(join(ROOT, 'public', 'samples', 'index.json'), 'utf8')) as { classes: string[]; tiles: { path: string; label: string }[] };
  const samples = index.classes.map((c) => join(ROOT, 'public', 'samples', index.tiles.find((t) => t.label === c)?.path ?? ''));
  return (JSON.parse(execFileSync(process.execPath, [join(ROOT, 'scripts', 'embed.ts'), '--model', folder, '--json', ...samples], { encoding: 'utf8' })) as { tokens: number[][] }).tokens;
}

const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((token, t) => token.map((v, d) => Math.abs(v - (b[t]?.[d] ?? NaN)))));

async function pickModel(page: Page, folder: string): Promise<void> {
  await page.goto('/settings');
  await page.getByLabel('A model folder on this computer').check();
  await page.getByLabel('Model folder', { exact: true }).setInputFiles(folder);
  await page.getByRole('button', { name: 'Use this model' }).click();
  await expect(page.getByTestId('model-source')).toContainText('picked folder');
}

/** Extracts the sample tiles on wasm in a fresh context (tokens are cached per model), after `setup`; resolves with the tokens or the error shown. */
async function extract(browser: Browser, setup: (page: Page) => Promise<void>): Promise<{ tokens: number[][] } | { error: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  logPageErrors(page, 'vit-streaming');
  try {
    await setup(page);
    await page.goto('/?backend=wasm');
    await page.getByRole('button', { name: 'Load sample tiles' }).click();
    await expect(page.getByTestId('tile-count')).toHaveText('3 tile(s) loaded');
    await page.getByRole('button', { name: 'Extract [CLS] tokens' }).click();
    const failed = page.getByRole('alert').filter({ hasText: 'Extraction failed' });
    await expect(page.getByTestId('token-summary').filter({ hasText: '3 token(s)' }).or(failed)).toBeVisible({ timeout: 120_000 });
    if (await failed.count()) return { error: (await failed.textContent()) as string };
    await expect(page.getByTestId('backend-name')).toHaveText('wasm');
    return { tokens: JSON.parse(await page.getByLabel('Token values (JSON)').inputValue()) as number[][] };
  } finally {
    await context.close();
  }
}

/** The workstation check on the bundled tiny model for webgpu and wasm at batch 8, under a simulated GPU buffer limit. */
async function checkUnderGpuLimit(page: Page, mebibytes: string): Promise<BenchmarkRowJson[]> {
  await page.goto('/benchmark');
  await page.getByTestId('backend-availability').waitFor();
  await page.getByRole('radio', { name: 'The bundled tiny demo model' }).check();
  for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) {
    const box = page.locator(`input[name="backend"][value="${backend}"]`);
    if (await box.isEnabled()) await box.setChecked(backend === 'webgpu' || backend === 'wasm');
  }
  await page.locator('input[name="batch"][value="1"]').setChecked(false);
  await page.getByLabel('Synthetic images per run').fill('8');
  await page.getByLabel('Timed runs').fill('1');
  await page.getByLabel('WebAssembly threads (comma-separated)').fill('1');
  await page.getByLabel('Skip a backend slower than (s per image)').fill('60');
  await page.getByLabel('GPU buffer limit (MiB)').fill(mebibytes);
  await page.getByRole('button', { name: 'Run workstation check' }).click();
  const json = page.getByTestId('benchmark-json');
  await json.waitFor({ state: 'attached', timeout: 180_000 });
  return (JSON.parse(await json.inputValue()) as { rows: BenchmarkRowJson[] }).rows;
}

test('streamed loads give the whole-file tokens; a flipped byte is refused by its checksum', async ({ browser }) => {
  test.setTimeout(300_000);
  const picked = mkdtempSync(join(tmpdir(), 'cipherpath-stream-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'make-tiny-model.ts'), '--out', picked, '--dtype', 'f32']);
  const fromServer = await extract(browser, async () => undefined);
  const fromFiles = await extract(browser, (page) => pickModel(page, picked));
  if (!('tokens' in fromServer) || !('tokens' in fromFiles)) throw new Error(`extraction failed: ${JSON.stringify([fromServer, fromFiles])}`);
  const [serverDiff, filesDiff] = [maxDiff(fromServer.tokens, embedInNode(TINY)), maxDiff(fromFiles.tokens, embedInNode(picked))];
  console.log(`streamed vs whole-file (npm run embed): server ${serverDiff.toExponential(2)}, picked folder ${filesDiff.toExponential(2)}`);
  expect(fromServer.tokens).toHaveLength(3);
  expect(serverDiff).toBeLessThanOrEqual(1e-5);
  expect(filesDiff).toBeLessThanOrEqual(1e-5);

  const damaged = mkdtempSync(join(tmpdir(), 'cipherpath-flipped-'));
  for (const name of MODEL_FILES) copyFileSync(join(picked, name), join(damaged, name));
  const file = readFileSync(join(damaged, 'model.safetensors'));
  file[file.length - 1000] = (file[file.length - 1000] as number) ^ 0x01;
  writeFileSync(join(damaged, 'model.safetensors'), file);
  const refused = await extract(browser, (page) => pickModel(page, damaged));
  expect('error' in refused ? refused.error : 'extracted').toMatch(/checksum mismatch for model\.safetensors: manifest\.json says [0-9a-f]{64}, file is [0-9a-f]{64}/);
});

test('under a small WebGPU buffer limit the model splits its kernels, or is refused on WebGPU and runs on wasm', async ({ page }) => {
  test.setTimeout(300_000);
  logPageErrors(page, 'vit-streaming gpu limit');
  // 160 KiB: the 576 KiB MLP kernels go in 4 column blocks, the 432 KiB fused qkv in 3, 8 images' activations do not fit.
  const split = await checkUnderGpuLimit(page, '0.15625');
  const [gpu, wasm] = split;
  expect(split.map((r) => [r.backend, r.status])).toEqual([
    ['webgpu', 'measured'],
    ['wasm', 'measured'],
  ]);
  const plan = gpu?.load?.webgpuPlan;
  expect(plan?.limitBytes).toBe(160 * 1024);
  expect(plan?.split.map((s) => s.blocks).sort()).toEqual([3, 4, 4]); // fused qkv, MLP in, MLP out
  expect(plan?.maxBatch).toBe(3);
  expect(gpu?.reason).toContain('at most 3 images per forward pass');
  // The device refuses any larger buffer (an error, not a silent result), so a measured row proves none was made.
  expect(gpu?.memory?.largestGpuBufferBytes).toBeLessThanOrEqual(160 * 1024);
  expect(wasm?.reference).toBe('webgpu');
  console.log(`split WebGPU vs wasm: ${wasm?.maxAbsDiff}; largest GPU buffer ${gpu?.memory?.largestGpuBufferBytes} B`);
  expect(wasm?.maxAbsDiff as number).toBeLessThanOrEqual(1e-5);
  expect(wasm?.load?.peakBufferedBytes).toBeLessThan((wasm?.load?.bytes as number) / 5);
  expect(wasm?.memory?.wasmHeapBytes).toBeGreaterThan(0);
  await expect(page.getByTestId('peak-memory').first()).toHaveText(/\d (KiB|MiB|GiB)$/);

  // 64 KiB: the 144 KiB patch-embedding kernel cannot be split.
  const refused = await checkUnderGpuLimit(page, '0.0625');
  expect(refused.map((r) => [r.backend, r.status])).toEqual([
    ['webgpu', 'skipped'],
    ['wasm', 'measured'],
  ]);
  expect(refused[0]?.reason).toBe(
    'tfjs could not start webgpu (the model does not fit this GPU: embeddings.patch_embeddings.projection.weight [8, 8, 3, 192] (144 KiB) does not fit the WebGPU buffer limit set for this run of 64 KiB and cannot be split); the worker fell back to wasm',
  );
});
