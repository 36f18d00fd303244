import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HeContext } from '../he/context.ts';
import { encryptTokenBatch, generateSecretKey } from '../he/tokens.ts';
import { clsTokens, drawAttackerTiles, readSampleTiles } from './audit-tiles.ts';
import { ciphertextFeatures } from './ciphertext-features.ts';
import { trainImageDecoder } from './image-decoder.ts';
import { psnr } from './psnr.ts';

const root = join(import.meta.dirname, '..', '..');

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe("the coordinator's view: ciphertext features → tile", () => {
  it('reads c0 residues in [0, 1) and the length; two encryptions of one token look unrelated', async () => {
    const ctx = await HeContext.create('agg-v1');
    const key = await generateSecretKey(ctx, 'features-test');
    const token = Float32Array.from({ length: 192 }, (_, i) => Math.sin(i));
    const [a, b] = [(await encryptTokenBatch(ctx, key, 'features-test', [token]))[0]!, (await encryptTokenBatch(ctx, key, 'features-test', [token]))[0]!];
    const fa = ciphertextFeatures(ctx, a, 256);
    const fb = ciphertextFeatures(ctx, b, 256);
    expect(fa.length).toBe(257);
    expect(fa[256]).toBe(a.length);
    expect(Array.from(fa.subarray(0, 256)).every((v) => v >= 0 && v < 1)).toBe(true);
    let same = 0;
    for (let i = 0; i < 256; i++) if (Math.abs(fa[i]! - fb[i]!) < 1e-3) same++;
    expect(same).toBeLessThan(5);
    expect(() => ciphertextFeatures(ctx, a, 0)).toThrow('count 0 must be an integer in 1..8192');
    expect(() => ciphertextFeatures(ctx, a.subarray(0, 100))).toThrow();
  });

  it('a chosen-plaintext attacker with its own key gets within 1 dB of the dataset-mean guess, no better', async () => {
    const ctx = await HeContext.create('agg-v1');
    const attacker = drawAttackerTiles(40);
    const victims = readSampleTiles(join(root, 'public', 'samples'));
    const modelDir = join(root, 'public', 'models', 'tiny');
    const [ownTokens, victimTokens] = [await clsTokens(modelDir, attacker.map((t) => t.image)), await clsTokens(modelDir, victims.map((t) => t.image))];
    const encryptEach = async (key: Uint8Array, federation: string, tokens: Float32Array[]) => {
      const features: Float32Array[] = [];
      for (const token of tokens) features.push(ciphertextFeatures(ctx, (await encryptTokenBatch(ctx, key, federation, [token]))[0]!));
      return features;
    };
    const ownFeatures = await encryptEach(await generateSecretKey(ctx, 'attacker'), 'attacker', ownTokens);
    const victimFeatures = await encryptEach(await generateSecretKey(ctx, 'hospital'), 'hospital', victimTokens);
    const decoder = await trainImageDecoder(ownFeatures, attacker.map((t) => t.image), { epochs: 8, learningRate: 3e-4 });
    const reconstructions = await decoder.predict(victimFeatures);
    decoder.dispose();
    const average = (guess: (i: number) => Parameters<typeof psnr>[1]) => victims.reduce((s, v, i) => s + psnr(v.image, guess(i)), 0) / victims.length;
    const attack = average((i) => reconstructions[i]!);
    const meanGuess = average(() => decoder.meanImage);
    expect(Math.abs(attack - meanGuess)).toBeLessThanOrEqual(1);
  });
});
