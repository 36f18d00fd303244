import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createFcFirstModel,
  disposeFcFirstModel,
  fcFirstLayerGradients,
  recoverImageFromFirstLayerGradients,
} from './fc-gradient-attack.ts';
import { cnnGradients, cnnLoss, cnnParameters, createSmallCnn, inferLabel, invertGradients, type SmallCnn } from './gradient-matching.ts';
import { datasetMeanImage } from './mean-image-attack.ts';
import { psnr } from './psnr.ts';
import { ssim } from './ssim.ts';
import { syntheticTile } from './synthetic-tiles.ts';
import { imageToTensor } from './tensor-image.ts';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const disposeCnn = (model: SmallCnn) => tf.dispose(cnnParameters(model));
const maxAbsDifference = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);

describe('analytic recovery from first-layer gradients (plaintext gradient sharing)', () => {
  it('rebuilds a 32x32 tile far above 40 dB PSNR', async () => {
    const tile = syntheticTile(5, 32);
    const model = createFcFirstModel(32 * 32 * 3, 64, 3, 21);
    const gradients = await fcFirstLayerGradients(model, tile, 2);
    disposeFcFirstModel(model);
    const recovered = recoverImageFromFirstLayerGradients(gradients, 32, 32);
    expect(psnr(tile, recovered)).toBeGreaterThan(40);
    expect(ssim(tile, recovered)).toBeGreaterThan(0.999);
  });

  it('says why when the update carries no image, and checks sizes', async () => {
    expect(() => recoverImageFromFirstLayerGradients({ kernel: new Float32Array(12), bias: new Float32Array(4) }, 1, 1)).toThrow(
      'every first-layer bias gradient is zero',
    );
    expect(() => recoverImageFromFirstLayerGradients({ kernel: new Float32Array(10), bias: new Float32Array(4) }, 1, 1)).toThrow(
      'kernel gradient has 10 values, expected 3 inputs x 4 units',
    );
    const model = createFcFirstModel(12, 4, 3, 1);
    await expect(fcFirstLayerGradients(model, syntheticTile(1, 4), 0)).rejects.toThrow("first layer takes 12");
    await expect(fcFirstLayerGradients(model, syntheticTile(1, 2), 3)).rejects.toThrow('label 3 is not a class index in 0..2');
    disposeFcFirstModel(model);
  });
});

describe('gradient matching with a TV prior (plaintext gradient sharing)', () => {
  it("the hand-written forward and backward passes equal tfjs's conv2d and tf.grads", () => {
    const model = createSmallCnn(16, 6, 3, 3);
    const x = imageToTensor(syntheticTile(2, 16));
    const referenceLoss = tf.tidy(() => {
      const h1 = tf.sigmoid(tf.conv2d(x, model.conv1, 1, 'valid').add(model.bias1));
      const h2 = tf.sigmoid(tf.conv2d(h1 as tf.Tensor4D, model.conv2, 1, 'valid').add(model.bias2));
      const logits = tf.matMul(h2.reshape([1, -1]), model.dense).add(model.bias3);
      return tf.losses.softmaxCrossEntropy(tf.oneHot([1], 3), logits);
    });
    const loss = cnnLoss(model, x, 1);
    expect(maxAbsDifference(loss, referenceLoss)).toBeLessThan(1e-5);
    const manual = cnnGradients(model, x, 1);
    const automatic = tf.grads((...p: tf.Tensor[]) =>
      cnnLoss({ conv1: p[0], bias1: p[1], conv2: p[2], bias2: p[3], dense: p[4], bias3: p[5] } as SmallCnn, x, 1),
    )(cnnParameters(model));
    manual.forEach((g, i) => {
      expect(g.shape).toEqual(automatic[i]!.shape);
      expect(maxAbsDifference(g, automatic[i]!)).toBeLessThan(1e-6);
    });
    expect(inferLabel(manual[5]!.dataSync())).toBe(1);
    tf.dispose([x, loss, referenceLoss, ...manual, ...automatic]);
    disposeCnn(model);
  });

  it('rebuilds a 16x16 tile from its gradients, far better than the mean-image guess', async () => {
    const size = 16;
    const tile = syntheticTile(3, size);
    const model = createSmallCnn(size, 12, 3, 11);
    const x = imageToTensor(tile);
    const shared = cnnGradients(model, x, 2);
    const before = tf.memory().numTensors;
    const result = await invertGradients(model, shared, size, { iterations: 300 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...shared]);
    disposeCnn(model);
    expect(result.label).toBe(2);
    expect(result.finalDistance).toBeLessThan(1e-3);
    const guess = datasetMeanImage(Array.from({ length: 12 }, (_, i) => syntheticTile(100 + i, size)));
    const reconstructionPsnr = psnr(tile, result.image);
    expect(reconstructionPsnr).toBeGreaterThan(25);
    expect(reconstructionPsnr).toBeGreaterThan(psnr(tile, guess) + 10);
  });
});

describe("the coordinator's view: the dataset mean image", () => {
  const size = 32;
  const known = Array.from({ length: 24 }, (_, i) => syntheticTile(200 + i, size));
  const targets = Array.from({ length: 6 }, (_, i) => syntheticTile(300 + i, size));

  it('is the pixel-wise mean', () => {
    const mean = datasetMeanImage(known);
    const p = 123;
    expect(mean.data[p]).toBeCloseTo(known.reduce((s, t) => s + t.data[p]!, 0) / known.length, 4);
  });

  it('beats guessing any single known tile, on unseen tiles (what an attacker with no information can do)', () => {
    const mean = datasetMeanImage(known);
    const meanMse = (guess: typeof mean) => targets.reduce((s, t) => s + 10 ** (-psnr(t, guess) / 10), 0);
    for (const single of known) expect(meanMse(mean)).toBeLessThan(meanMse(single));
  });

  it('rejects mixed sizes', () => {
    expect(() => datasetMeanImage([syntheticTile(1, 8), syntheticTile(2, 9)])).toThrow('image 1 is 9x9, image 0 is 8x8');
    expect(() => datasetMeanImage([])).toThrow('needs at least one image');
  });
});
