// NodeEmbedPool: the worker threads give the tokens the in-process extraction gives, in order, and fail clearly.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedRgbaImages, type RgbaImage } from './extract.ts';
import { VitModel } from './model.ts';
import { NodeEmbedPool } from './node-embed-pool.ts';
import { readImageFile, readModelDir, useNodeWasmBackend } from './node-io.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MODEL = join(ROOT, 'public', 'models', 'tiny');
const SAMPLES = join(ROOT, 'public', 'samples', 'lung_aca');
let images: RgbaImage[] = [];
let reference: Float32Array[] = [];
let pool: NodeEmbedPool;

beforeAll(async () => {
  images = await Promise.all(readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort().map((f) => readImageFile(join(SAMPLES, f))));
  await useNodeWasmBackend();
  const { config, processor, weights } = await readModelDir(MODEL);
  const model = VitModel.create(config, weights);
  reference = await embedRgbaImages(model, processor, images, 2);
  model.dispose();
  pool = await NodeEmbedPool.start(MODEL, 2);
}, 60_000);
afterAll(() => pool?.close());

const maxAbsDiff = (a: Float32Array[], b: Float32Array[]) => {
  expect(a.map((t) => t.length)).toEqual(b.map((t) => t.length));
  return Math.max(...a.flatMap((t, i) => Array.from(t, (v, j) => Math.abs(v - b[i]![j]!))));
};

describe('NodeEmbedPool', () => {
  it('embeds on two threads exactly as one in-process model does, in order', async () => {
    expect(images.length).toBeGreaterThanOrEqual(4);
    expect(pool.threads).toBe(2);
    expect(pool.model.processor.size).toBe(32);
    expect(maxAbsDiff(await pool.embed(images, 2), reference)).toBeLessThanOrEqual(1e-5);
    // Reading one image at a time, batches in flight meanwhile: same tokens, same order.
    const read: number[] = [];
    const streamed = await pool.embedEach(images.length, async (i) => {
      read.push(i);
      return images[i]!;
    }, 2);
    expect(read).toEqual(images.map((_, i) => i));
    expect(maxAbsDiff(streamed, reference)).toBeLessThanOrEqual(1e-5);
  });

  it('names the images of a batch that fails, and a read that fails stops the stream', async () => {
    const broken = { rgba: new Uint8Array(5), width: 3, height: 3 };
    await expect(pool.embed([images[0]!, images[1]!, broken], 2)).rejects.toThrow(/images 2\.\.2: .*image 0/);
    await expect(pool.embedEach(4, async (i) => {
      if (i === 3) throw new Error('tile 3 is unreadable');
      return images[i]!;
    }, 2)).rejects.toThrow('tile 3 is unreadable');
    // The pool still serves after both failures.
    expect(maxAbsDiff(await pool.embed(images.slice(0, 2), 2), reference.slice(0, 2))).toBeLessThanOrEqual(1e-5);
  });

  it('refuses a bad thread count and a folder without a model', async () => {
    await expect(NodeEmbedPool.start(MODEL, 0)).rejects.toThrow('thread count 0 must be a positive integer');
    await expect(NodeEmbedPool.start(join(ROOT, 'no-such-model'), 1)).rejects.toThrow('no-such-model');
  });
});
