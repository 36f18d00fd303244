// model.safetensors streamed tensor by tensor (stream-load.ts) on the real tfjs wasm backend: the tokens equal the
// whole-file path's bit for bit whatever the chunking, the reader never holds more than one tensor's bytes, a flipped
// byte anywhere is refused with the checksum error and leaves no tensor behind, and a refusal from the header stops
// the download there. Dense kernels split into column blocks (a WebGPU buffer limit) give the unsplit tokens.
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/mulberry32.ts';
import { DeviceLimitError } from './buffer-plan.ts';
import { VitModel } from './model.ts';
import type { QkvLayout } from './model-params.ts';
import { readModelDir, useNodeWasmBackend } from './node-io.ts';
import { bytesStream, streamVitModel } from './stream-load.ts';
import { indexSafetensors } from './safetensors.ts';
import { readModelHead } from './weights.ts';

const TINY_DIR = new URL('../../public/models/tiny/', import.meta.url);
const files = new Map<string, Uint8Array>();
const fetchFile = async (name: string) => files.get(name) as Uint8Array;
let pixels: Float32Array;

beforeAll(async () => {
  await useNodeWasmBackend();
  for (const name of ['manifest.json', 'config.json', 'preprocessor_config.json', 'model.safetensors']) {
    files.set(name, new Uint8Array(await readFile(new URL(name, TINY_DIR))));
  }
  const next = mulberry32(7);
  pixels = Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => 2 * next() - 1);
});

async function streamedTokens(file: Uint8Array, chunkBytes: number, qkvLayout: QkvLayout = 'perHead', maxKernelBytes?: number) {
  const before = tf.memory().numTensors;
  const { model, stats } = await streamVitModel(await readModelHead(fetchFile), bytesStream(file, chunkBytes), { qkvLayout, maxKernelBytes });
  const modelTensors = tf.memory().numTensors - before;
  try {
    return { tokens: await model.embedBatch(pixels, 2), stats, modelTensors };
  } finally {
    model.dispose();
  }
}

async function wholeFileTokens(): Promise<Float32Array[]> {
  const { config, weights } = await readModelDir(TINY_DIR.pathname);
  const model = VitModel.create(config, weights);
  try {
    return await model.embedBatch(pixels, 2);
  } finally {
    model.dispose();
  }
}

describe('streaming model.safetensors', () => {
  it('gives the whole-file tokens bit for bit in any chunking, holding one tensor at a time', async () => {
    const reference = await wholeFileTokens();
    const file = files.get('model.safetensors') as Uint8Array;
    const largestTensor = Math.max(...[...indexSafetensors(file).entries.values()].map((e) => e.end - e.begin));
    for (const chunk of [1 << 20, 65536, 7777, 13]) {
      const before = tf.memory().numTensors;
      const { tokens, stats } = await streamedTokens(file, chunk);
      expect(tokens).toEqual(reference);
      expect(stats.bytes).toBe(file.byteLength);
      expect(stats.peakBufferedBytes).toBe(largestTensor);
      expect(stats.peakBufferedBytes).toBeLessThan(file.byteLength / 5);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('refuses a file with one byte flipped (data or header) by its checksum, leaving no tensor', async () => {
    const file = files.get('model.safetensors') as Uint8Array;
    const headerEnd = 8 + Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
    for (const [at, context] of [
      [file.byteLength - 3, /file is [0-9a-f]{64}$/],
      [headerEnd - 20, /reading it also failed/],
      [20, /reading it also failed/],
    ] as const) {
      const flipped = file.slice();
      flipped[at] = (flipped[at] as number) ^ 0x10;
      const before = tf.memory().numTensors;
      const error = await streamedTokens(flipped, 65536).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^model folder: checksum mismatch for model.safetensors: manifest.json says [0-9a-f]{64}, file is [0-9a-f]{64}/);
      expect((error as Error).message).toMatch(context);
      expect(tf.memory().numTensors).toBe(before);
    }
    await expect(streamedTokens(file.subarray(0, file.byteLength - 100), 65536)).rejects.toThrow(`model.safetensors is ${file.byteLength - 100} bytes, manifest.json says ${file.byteLength}`);
  });

  it('stops reading when the header shows the model cannot be held', async () => {
    const file = files.get('model.safetensors') as Uint8Array;
    let pulled = 0;
    const inner = bytesStream(file, 4096).getReader();
    const counted = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await inner.read();
        if (done) controller.close();
        else {
          pulled += value.byteLength;
          controller.enqueue(value);
        }
      },
    });
    const head = await readModelHead(fetchFile);
    let seen = 0;
    await expect(
      streamVitModel(head, counted, {
        qkvLayout: 'perHead',
        beforeTensors: (parameters) => {
          seen = parameters;
          throw new DeviceLimitError('too large');
        },
      }),
    ).rejects.toThrow('too large');
    expect(seen).toBe(930624); // the tiny ViT's parameter count, from the header
    expect(pulled).toBeLessThan(16384);
  });

  it('builds dense kernels as column blocks under a buffer limit, with the unsplit tokens', async () => {
    const file = files.get('model.safetensors') as Uint8Array;
    const whole = await streamedTokens(file, 65536, 'fused');
    // 160 KiB: the MLP kernels (576 KiB) and the fused qkv kernel (432 KiB) must be split, into 4 and 3 blocks.
    const split = await streamedTokens(file, 65536, 'fused', 160 * 1024);
    const diff = Math.max(...whole.tokens.flatMap((t, i) => Array.from(t, (v, j) => Math.abs(v - (split.tokens[i] as Float32Array)[j]!))));
    expect(diff).toBeLessThan(1e-6);
    // Per layer: qkv 1 -> 3 blocks, intermediate and output 1 -> 4 blocks each (kernel and bias per block).
    expect(split.modelTensors - whole.modelTensors).toBe(2 * 2 * (2 + 3 + 3));
    const perHead = await wholeFileTokens();
    expect(Math.max(...perHead.flatMap((t, i) => Array.from(t, (v, j) => Math.abs(v - (split.tokens[i] as Float32Array)[j]!))))).toBeLessThan(1e-4);
  });
});
