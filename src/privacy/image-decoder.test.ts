import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/mulberry32.ts';
import { clsTokens, drawAttackerTiles, readSampleTiles } from './audit-tiles.ts';
import { trainImageDecoder } from './image-decoder.ts';
import { psnr } from './psnr.ts';

const root = join(import.meta.dirname, '..', '..');
const meanPsnr = (originals: { image: Parameters<typeof psnr>[0] }[], guesses: Parameters<typeof psnr>[1][]) =>
  originals.reduce((sum, t, i) => sum + psnr(t.image, guesses[i]!), 0) / originals.length;

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('the insider decoder: [CLS] token → tile', () => {
  it('trained on other tiles, beats the dataset-mean guess on the bundled sample tiles', async () => {
    const attacker = drawAttackerTiles(60);
    const victims = readSampleTiles(join(root, 'public', 'samples'));
    const modelDir = join(root, 'public', 'models', 'tiny');
    const [trainTokens, victimTokens] = [await clsTokens(modelDir, attacker.map((t) => t.image)), await clsTokens(modelDir, victims.map((t) => t.image))];
    const before = tf.memory().numTensors;
    const decoder = await trainImageDecoder(trainTokens, attacker.map((t) => t.image), { epochs: 10, learningRate: 3e-4 });
    const reconstructions = await decoder.predict(victimTokens);
    decoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(decoder.report.bestEpoch).toBeGreaterThan(0);
    expect(decoder.report.validationMseBest).toBeLessThan(decoder.report.validationMseBefore);
    const decoded = meanPsnr(victims, reconstructions);
    const meanGuess = meanPsnr(victims, victims.map(() => decoder.meanImage));
    // Measured ~16.9 vs ~13.7 dB: the token gives away colour and tissue type (see README).
    expect(decoded).toBeGreaterThan(meanGuess + 1.5);
  });

  it('falls back to the mean image when the features carry nothing (early stopping on held-out pairs)', async () => {
    const tiles = drawAttackerTiles(20).map((t) => t.image);
    const noise = mulberry32(7);
    const features = tiles.map(() => Float32Array.from({ length: 64 }, noise));
    const decoder = await trainImageDecoder(features, tiles, { epochs: 6, hidden: 64, learningRate: 3e-3 });
    const [guess] = await decoder.predict([Float32Array.from({ length: 64 }, noise)]);
    decoder.dispose();
    expect(decoder.report.validationMseLast).toBeGreaterThan(decoder.report.validationMseBest);
    expect(psnr(decoder.meanImage, guess!)).toBeGreaterThan(decoder.report.bestEpoch === 0 ? 100 : 25);
  });

  it('names bad inputs', async () => {
    const tiles = drawAttackerTiles(1).map((t) => t.image);
    const f = (n: number) => new Float32Array(n);
    await expect(trainImageDecoder([], [])).rejects.toThrow('needs at least one (features, image) pair');
    await expect(trainImageDecoder([f(4), f(4)], tiles)).rejects.toThrow('2 feature vectors but 3 images');
    await expect(trainImageDecoder([f(4), f(4), f(5)], tiles)).rejects.toThrow('feature vector 2 has 5 values, vector 0 has 4');
    await expect(trainImageDecoder([f(4), f(4), f(4)], tiles, { downscale: 3 })).rejects.toThrow('downscale 3 must be a positive integer dividing the image size 64x64');
    const decoder = await trainImageDecoder([f(4), f(4), f(4)], tiles, { epochs: 1 });
    await expect(decoder.predict([f(3)])).rejects.toThrow('feature vector 0 has 3 values, the decoder takes 4');
    decoder.dispose();
  });
});
