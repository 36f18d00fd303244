// Compares the tfjs ViT with the independent PyTorch implementation in scripts/vit-fixtures.py
// (fixtures in src/vit/fixtures/, regenerated with `/usr/bin/python3 scripts/vit-fixtures.py fixtures`).

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { VIT_PRESETS } from './config.ts';
import { readImageFile, writeModelDir } from './node-io.ts';
import { resizeLikePillow } from './preprocess.ts';
import { imageProcessorJson, PLAIN_VIT_EXTENSIONS } from './config.ts';
import { buildModelFolder, randomVitWeights, vitConfigJson } from './weights.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'src/vit/fixtures');

interface Expected {
  images: string[];
  small: { checkpoint: string; tokens: number[][] };
  vit_b16: {
    config: unknown;
    seed: number;
    processor: { size: number; rescale_factor: number; image_mean: [number, number, number]; image_std: [number, number, number] };
    tokens: number[][];
  };
}
const expected = JSON.parse(await readFile(join(FIXTURES, 'expected-tokens.json'), 'utf8')) as Expected;
const imagePaths = expected.images.map((name) => join(FIXTURES, name));
const scratch = await mkdtemp(join(tmpdir(), 'vit-fixtures-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function node(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(ROOT, script), ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function embedJson(modelDir: string, batch: number): Promise<{ backend: string; tokens: number[][] }> {
  return JSON.parse(await node('scripts/embed.ts', '--model', modelDir, '--json', '--batch', String(batch), ...imagePaths));
}

function maxAbsDiff(actual: number[][], want: number[][]): number {
  expect(actual.map((t) => t.length)).toEqual(want.map((t) => t.length));
  return Math.max(...actual.flatMap((token, i) => token.map((v, j) => Math.abs(v - (want[i]?.[j] as number)))));
}

describe('agreement with the PyTorch reference', () => {
  it("resizes exactly as Pillow's BILINEAR (what HF ViTImageProcessor uses)", async () => {
    const references = [['a', 48], ['b', 48], ['c', 48], ['a', 224], ['c', 224]] as const;
    for (const [name, size] of references) {
      const source = await readImageFile(join(FIXTURES, 'images', `${name}.png`));
      const want = PNG.sync.read(await readFile(join(FIXTURES, 'pil-resized', `${name}-${size}.png`)));
      const rgb = resizeLikePillow(source.rgba, source.width, source.height, size, size);
      const wantRgb = new Uint8Array(size * size * 3);
      for (let i = 0; i < size * size; i++) wantRgb.set(want.data.subarray(i * 4, i * 4 + 3), i * 3);
      expect(Buffer.from(rgb).equals(Buffer.from(wantRgb)), `${name} -> ${size}`).toBe(true);
    }
  });

  it('npm run embed on a converted small HF ViTForImageClassification checkpoint (f32 and f16)', async () => {
    const f32 = join(scratch, 'small-f32');
    const f16 = join(scratch, 'small-f16');
    const converted = await node('scripts/convert-weights.ts', '--from', join(FIXTURES, expected.small.checkpoint), '--out', f32);
    expect(converted).toMatch(/dropped classifier.bias, classifier.weight/);
    await node('scripts/convert-weights.ts', '--from', join(FIXTURES, expected.small.checkpoint), '--out', f16, '--dtype', 'f16');
    const exact = await embedJson(f32, 2);
    expect(exact.backend).toBe('wasm');
    expect(exact.tokens).toHaveLength(3);
    expect(maxAbsDiff(exact.tokens, expected.small.tokens)).toBeLessThanOrEqual(1e-4);
    // fp16 storage rounds every weight (relative 2^-11): tokens move by ~1e-3, not more.
    expect(maxAbsDiff((await embedJson(f16, 3)).tokens, expected.small.tokens)).toBeLessThanOrEqual(1e-2);
  });

  it('npm run embed with the ViT-B/16 shape (seeded weights shared with the Python script)', async () => {
    const config = VIT_PRESETS['vit-b16'];
    expect({ ...config, ...PLAIN_VIT_EXTENSIONS }).toEqual({ ...(expected.vit_b16.config as object), ...PLAIN_VIT_EXTENSIONS });
    const dir = join(scratch, 'b16');
    const files = await buildModelFolder(
      vitConfigJson(config),
      imageProcessorJson(expected.vit_b16.processor),
      randomVitWeights(config, expected.vit_b16.seed),
      'F32',
    );
    await writeModelDir(dir, files);
    files.clear();
    const { tokens } = await embedJson(dir, 3);
    expect(maxAbsDiff(tokens, expected.vit_b16.tokens)).toBeLessThanOrEqual(1e-3);
  });
});
