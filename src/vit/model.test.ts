import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/mulberry32.ts';
import { VitModel } from './model.ts';
import { readModelDir, useNodeWasmBackend } from './node-io.ts';
import { preprocessRgba } from './preprocess.ts';
import { loopbackPair } from '../rpc/channel.ts';
import { RpcClient, serveRpc } from '../rpc/rpc.ts';
import { vitHandlers } from './worker-host.ts';
import type { VitHandlers } from './worker-host.ts';
import type { Progress } from './worker-protocol.ts';
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from './batch-size.ts';
import { preprocessBatch } from './extract.ts';

const TINY_DIR = new URL('../../public/models/tiny/', import.meta.url).pathname;

/** A deterministic pseudo-random RGBA image. */
function testImage(seed: number, width: number, height: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4);
  const next = mulberry32(seed);
  for (let i = 0; i < rgba.length; i++) rgba[i] = Math.floor(next() * 256);
  return rgba;
}

beforeAll(async () => {
  await useNodeWasmBackend();
});

describe('VitModel on tfjs-backend-wasm', () => {
  it('embeds the tiny model deterministically, independent of batch composition', async () => {
    const { config, processor, weights } = await readModelDir(TINY_DIR);
    const model = VitModel.create(config, weights);
    const images = [testImage(1, 40, 30), testImage(2, 32, 32), testImage(3, 100, 64)].map((rgba, i) =>
      preprocessRgba(rgba, [40, 32, 100][i] as number, [30, 32, 64][i] as number, processor),
    );
    const batch = new Float32Array(images.length * (images[0] as Float32Array).length);
    images.forEach((pixels, i) => batch.set(pixels, i * pixels.length));
    const together = await model.embedBatch(batch, 3);
    const alone = await model.embedBatch(images[1] as Float32Array, 1);
    const again = await model.embedBatch(batch, 3);
    model.dispose();
    expect(together).toHaveLength(3);
    expect(together[0]).toHaveLength(config.hidden_size);
    expect(again).toEqual(together);
    const diff = Math.max(...(alone[0] as Float32Array).map((v, i) => Math.abs(v - (together[1] as Float32Array)[i]!)));
    expect(diff).toBeLessThan(1e-5);
    expect(together[0]).not.toEqual(together[1]);
    await expect(model.embedBatch(batch, 3)).rejects.toThrow('after dispose()');
  });

  it('gives the same tokens with batched attention (GPU path, checked on the cpu backend)', async () => {
    const { config, processor, weights } = await readModelDir(TINY_DIR);
    const pixels = new Float32Array(2 * 3 * 32 * 32);
    pixels.set(preprocessRgba(testImage(4, 50, 40), 50, 40, processor));
    pixels.set(preprocessRgba(testImage(5, 20, 20), 20, 20, processor), 3 * 32 * 32);
    const embedOn = async (backend: string) => {
      await tf.setBackend(backend);
      const model = VitModel.create(config, weights);
      try {
        return await model.embedBatch(pixels, 2);
      } finally {
        model.dispose();
      }
    };
    try {
      const perHead = await embedOn('wasm');
      const batched = await embedOn('cpu');
      const diff = Math.max(...perHead.flatMap((t, i) => Array.from(t, (v, j) => Math.abs(v - (batched[i] as Float32Array)[j]!))));
      expect(diff).toBeLessThan(1e-4);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('rejects a pixel buffer of the wrong size', async () => {
    const { config, weights } = await readModelDir(TINY_DIR);
    const model = VitModel.create(config, weights);
    await expect(model.embedBatch(new Float32Array(10), 1)).rejects.toThrow('pixels has 10 values, expected 1 x 3 x 32 x 32 = 3072');
    model.dispose();
  });
});

describe('worker host (the Web Worker logic) on wasm', () => {
  // The handler table served over an in-process loopback: the same messages a Web Worker would carry.
  async function startHost() {
    const [clientEnd, serverEnd] = loopbackPair();
    serveRpc(vitHandlers({ baseUrl: 'file:///' }), serverEnd);
    const client = new RpcClient<VitHandlers>(clientEnd);
    const init = await client.call('init', { options: { modelFiles: await tinyFiles(), allow: ['wasm'], batchSize: 8 } });
    return { client, init };
  }

  it('extracts 100 images with progress, leaving tf.memory().numTensors where it started', async () => {
    const { client, init } = await startHost();
    expect(init).toMatchObject({ backend: { backend: 'wasm' }, config: { hidden_size: 192 } });
    const before = tf.memory().numTensors;
    const images = Array.from({ length: 100 }, (_, i) => ({ rgba: testImage(i, 48, 40), width: 48, height: 40 }));
    const progress: Progress[] = [];
    const tokens = await client.call('embed', { images }, { onProgress: (p) => progress.push(p) });
    expect(tf.memory().numTensors).toBe(before);
    expect(tokens).toHaveLength(100);
    expect(progress.map((p) => p.done)).toEqual([8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 100]);
    expect(progress.at(-1)?.etaMs).toBe(0);
  });

  it('cancels between batches with an AbortError and reports bad images by index', async () => {
    const { client } = await startHost();
    const images = Array.from({ length: 40 }, (_, i) => ({ rgba: testImage(i, 32, 32), width: 32, height: 32 }));
    // The handler itself, with the signal the RPC server would abort on a cancel message.
    const embed = vitHandlers({ baseUrl: 'file:///' });
    await embed.init({ options: { modelFiles: await tinyFiles(), allow: ['wasm'], batchSize: 8 } });
    const controller = new AbortController();
    const direct = embed.embed({ images: images.map((im) => ({ ...im, rgba: im.rgba.slice() })) }, { signal: controller.signal, progress: () => controller.abort() });
    await expect(direct).rejects.toMatchObject({ name: 'AbortError', message: expect.stringMatching(/cancelled after 8 of 40/) });
    // Through the client: the abort rejects at once with an AbortError and the worker is free for the next call.
    const viaRpc = new AbortController();
    const cancelled = client.call('embed', { images: images.map((im) => ({ ...im, rgba: im.rgba.slice() })) }, { signal: viaRpc.signal, onProgress: () => viaRpc.abort() });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    const bad = client.call('embed', { images: [images[0]!, { rgba: new Uint8ClampedArray(5), width: 32, height: 32 }] });
    await expect(bad).rejects.toMatchObject({ message: expect.stringMatching(/^embed: image 1: preprocess: RGBA buffer has 5 bytes/) });
  });
});

describe('embedPixels (the tile pipeline preprocesses elsewhere)', () => {
  it('gives the tokens embed gives from the same pixels; init reports the processor and the backend default batch', async () => {
    const [clientEnd, serverEnd] = loopbackPair();
    serveRpc(vitHandlers({ baseUrl: 'file:///' }), serverEnd);
    const client = new RpcClient<VitHandlers>(clientEnd);
    const init = await client.call('init', { options: { modelFiles: await tinyFiles(), allow: ['wasm'] } });
    expect(init.batchSize).toBe(DEFAULT_BATCH_SIZE.wasm);
    expect(init.processor.size).toBe(32);
    const images = Array.from({ length: 5 }, (_, i) => ({ rgba: testImage(50 + i, 64, 48), width: 64, height: 48 }));
    const viaEmbed = await client.call('embed', { images: images.map((im) => ({ ...im, rgba: im.rgba.slice() })) });
    const viaPixels = await client.call('embedPixels', { pixels: preprocessBatch(images, init.processor), count: images.length });
    expect(viaPixels.tokens).toEqual(viaEmbed);
    expect(viaPixels.forwardMs).toBeGreaterThan(0);
    await expect(client.call('embedPixels', { pixels: new Float32Array(3 * 32 * 32 + 1), count: 1 })).rejects.toThrow('3073 values for 1 images; expected 1 x 3 x 32² = 3072');
  });

  it('refuses a batch size that is not a whole number from 1 to the maximum before loading anything', async () => {
    const host = vitHandlers({ baseUrl: 'file:///' });
    for (const batchSize of [0, 2.5, MAX_BATCH_SIZE + 1]) {
      await expect(host.init({ options: { modelFiles: {}, allow: ['wasm'], batchSize } })).rejects.toThrow(`batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
    }
  });
});

async function tinyFiles(): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const name of ['manifest.json', 'config.json', 'preprocessor_config.json', 'model.safetensors']) files[name] = new Uint8Array(await readFile(TINY_DIR + name));
  return files;
}
