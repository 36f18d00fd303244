// A learned inversion: a small MLP that maps a feature vector (a [CLS] token, or features of a ciphertext) back to the
// image it came from, trained on (features, image) pairs the attacker made itself from tiles of its own. Used twice in
// the audit: the insider who decrypts tokens, and the coordinator who only holds ciphertexts (a chosen-plaintext
// attacker with a key of its own). The same trainer serves both so the two numbers are comparable.
//
// It predicts the residual from the attacker's mean image and starts at exactly zero, so an untrained decoder IS the
// dataset-mean guess; training keeps the weights of the epoch with the lowest error on a held-out part of the
// attacker's tiles (early stopping). Features that carry nothing about the image therefore end at (or near) the mean
// guess instead of memorising noise, and features that do carry something move away from it: that is what a careful
// attacker would do, and it makes "no better than the mean" a measured outcome, not a built-in one.
// Dense layers only: tfjs's wasm backend cannot train convolutions (no filter-gradient kernel). It learns the image at
// half resolution (2x2 block means) and upsamples bilinearly: the tiny ViT sees tiles at 32 px, so its token cannot
// carry finer detail, and the output layer is 4x smaller (the audit's whole training budget is seconds).
import * as tf from '@tensorflow/tfjs';
import { assertRgbImage, type RgbImage } from './image.ts';
import { datasetMeanImage } from './mean-image-attack.ts';
import { mulberry32 } from '../common/mulberry32.ts';

export interface ImageDecoderOptions {
  /** Hidden ReLU units (default 256). */
  hidden?: number;
  /** Passes over the training pairs (default 60). */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Adam learning rate (default 1e-3). */
  learningRate?: number;
  /** Share of the pairs held out to choose the epoch (default 0.2; at least one pair). */
  validationFraction?: number;
  /** Seeds the weight init, the split and the batch order (default 1). */
  seed?: number;
  /** The decoder predicts block means of this many pixels square and upsamples them (default 2; 1 = full size). */
  downscale?: number;
}

export interface ImageDecoderReport {
  /** Epoch whose weights were kept (0 = the untrained decoder, i.e. the mean image). */
  bestEpoch: number;
  epochs: number;
  /** Mean squared error on the held-out pairs, pixels in [0, 1]: before training, and at the kept epoch. */
  validationMseBefore: number;
  validationMseBest: number;
  /** …and after the last epoch (what an attacker that trusted its training fit would have kept). */
  validationMseLast: number;
  trainingPairs: number;
  validationPairs: number;
  seconds: number;
}

export interface ImageDecoder {
  readonly report: ImageDecoderReport;
  /** The attacker's mean image (what the decoder outputs when the features say nothing). */
  readonly meanImage: RgbImage;
  predict(features: readonly Float32Array[]): Promise<RgbImage[]>;
  dispose(): void;
}


function shuffled(length: number, random: () => number): number[] {
  const order = Array.from({ length }, (_, i) => i);
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Per-feature mean and standard deviation (1 where a feature is constant), so every input enters on one scale. */
function featureStandardiser(features: readonly Float32Array[]): { mean: Float32Array; std: Float32Array } {
  const dim = features[0]!.length;
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (const f of features) for (let i = 0; i < dim; i++) mean[i]! += f[i]! / features.length;
  for (const f of features) for (let i = 0; i < dim; i++) std[i]! += (f[i]! - mean[i]!) ** 2 / features.length;
  for (let i = 0; i < dim; i++) std[i] = Math.sqrt(std[i]!) || 1;
  return { mean, std };
}

/**
 * x·w whose gradient uses explicit transposes: tfjs-wasm's matMul with a transposed first operand (which the built-in
 * gradient uses for dL/dw) ran ~40x slower than transpose-then-matMul in our measurements.
 */
const dense = tf.customGrad((x, w, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor2D, w as tf.Tensor2D]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [savedX, savedW] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, savedW.transpose()), tf.matMul(savedX.transpose(), dy as tf.Tensor2D)];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** (image − mean)/255 averaged over `factor`×`factor` blocks, HWC: the decoder's training target. */
function blockResidual(image: RgbImage, mean: RgbImage, factor: number): Float32Array {
  const outWidth = image.width / factor;
  const out = new Float32Array((image.height / factor) * outWidth * 3);
  const weight = 1 / (factor * factor * 255);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const target = (Math.floor(y / factor) * outWidth + Math.floor(x / factor)) * 3;
      for (let c = 0; c < 3; c++) {
        const i = (y * image.width + x) * 3 + c;
        out[target + c]! += (image.data[i]! - mean.data[i]!) * weight;
      }
    }
  }
  return out;
}

/** Trains a decoder from `features[i]` to `images[i]` (all images the same size). */
export async function trainImageDecoder(
  features: readonly Float32Array[],
  images: readonly RgbImage[],
  options: ImageDecoderOptions = {},
): Promise<ImageDecoder> {
  const { hidden = 256, epochs = 60, batchSize = 32, learningRate = 1e-3, validationFraction = 0.2, seed = 1, downscale = 2 } = options;
  const started = performance.now();
  const first = features[0];
  const firstImage = images[0];
  if (!first || !firstImage) throw new Error('trainImageDecoder: needs at least one (features, image) pair');
  if (features.length !== images.length) throw new Error(`trainImageDecoder: ${features.length} feature vectors but ${images.length} images`);
  if (features.length < 2) throw new Error('trainImageDecoder: needs at least two pairs (one to train on, one to hold out)');
  features.forEach((f, i) => {
    if (f.length !== first.length) throw new Error(`trainImageDecoder: feature vector ${i} has ${f.length} values, vector 0 has ${first.length}`);
  });
  images.forEach((image, i) => assertRgbImage(image, `training image ${i}`));
  const { width, height } = firstImage;
  if (!Number.isInteger(downscale) || downscale < 1 || width % downscale !== 0 || height % downscale !== 0) {
    throw new Error(`trainImageDecoder: downscale ${downscale} must be a positive integer dividing the image size ${width}x${height}`);
  }
  const meanImage = datasetMeanImage(images); // also checks that every image has the same size
  const { mean: featureMean, std: featureStd } = featureStandardiser(features);
  const dim = first.length;
  const targets = images.map((image) => blockResidual(image, meanImage, downscale));
  const outputs = targets[0]!.length;

  const random = mulberry32(seed);
  const order = shuffled(features.length, random);
  const validationCount = Math.min(features.length - 1, Math.max(1, Math.round(features.length * validationFraction)));
  const validationIndices = order.slice(0, validationCount);
  const trainingIndices = order.slice(validationCount);

  const inputs = (source: readonly Float32Array[]) => {
    const x = new Float32Array(source.length * dim);
    source.forEach((f, row) => {
      for (let i = 0; i < dim; i++) x[row * dim + i] = (f[i]! - featureMean[i]!) / featureStd[i]!;
    });
    return tf.tensor2d(x, [source.length, dim]);
  };
  const residuals = (indices: readonly number[]) => {
    const y = new Float32Array(indices.length * outputs);
    indices.forEach((index, row) => y.set(targets[index]!, row * outputs));
    return tf.tensor2d(y, [indices.length, outputs]);
  };
  const pick = (indices: readonly number[]) => indices.map((i) => features[i]!);

  // Inside tidy so the initial values are freed (a variable keeps its own copy; tidy never disposes variables).
  const weights = tf.tidy(() => ({
    kernel1: tf.variable(tf.randomNormal([dim, hidden], 0, Math.sqrt(2 / dim), 'float32', seed) as tf.Tensor2D),
    bias1: tf.variable(tf.zeros([hidden])),
    // Zero output layer: epoch 0 predicts the mean image exactly.
    kernel2: tf.variable(tf.zeros([hidden, outputs]) as tf.Tensor2D),
    bias2: tf.variable(tf.zeros([outputs])),
  }));
  const forward = (x: tf.Tensor2D) => dense(tf.relu(dense(x, weights.kernel1).add(weights.bias1)) as tf.Tensor2D, weights.kernel2).add(weights.bias2);
  const optimizer = tf.train.adam(learningRate);
  const validationX = inputs(pick(validationIndices));
  const validationY = residuals(validationIndices);
  const validationMse = async () => {
    const mse = tf.tidy(() => forward(validationX).sub(validationY).square().mean());
    const value = (await mse.data())[0]!;
    mse.dispose();
    return value;
  };
  const snapshot = () => Object.values(weights).map((w) => w.clone());
  let best = { epoch: 0, mse: await validationMse(), weights: snapshot() };
  const validationMseBefore = best.mse;
  let validationMseLast = best.mse;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const batches = shuffled(trainingIndices.length, random).map((i) => trainingIndices[i]!);
      for (let start = 0; start < batches.length; start += batchSize) {
        const batch = batches.slice(start, start + batchSize);
        tf.tidy(() => {
          const x = inputs(pick(batch));
          const y = residuals(batch);
          optimizer.minimize(() => forward(x).sub(y).square().mean() as tf.Scalar);
        });
      }
      const mse = await validationMse();
      validationMseLast = mse;
      if (mse < best.mse) {
        tf.dispose(best.weights);
        best = { epoch, mse, weights: snapshot() };
      }
    }
    Object.values(weights).forEach((w: tf.Variable, i) => w.assign(best.weights[i]!));
  } finally {
    tf.dispose([validationX, validationY, ...best.weights]);
    optimizer.dispose();
  }

  const report: ImageDecoderReport = {
    bestEpoch: best.epoch,
    epochs,
    validationMseBefore,
    validationMseBest: best.mse,
    validationMseLast,
    trainingPairs: trainingIndices.length,
    validationPairs: validationIndices.length,
    seconds: (performance.now() - started) / 1000,
  };
  const pixels = width * height * 3;
  return {
    report,
    meanImage,
    async predict(targetFeatures) {
      targetFeatures.forEach((f, i) => {
        if (f.length !== dim) throw new Error(`predict: feature vector ${i} has ${f.length} values, the decoder takes ${dim}`);
      });
      if (targetFeatures.length === 0) return [];
      const out = tf.tidy(() => {
        const small = forward(inputs(targetFeatures)).reshape([targetFeatures.length, height / downscale, width / downscale, 3]) as tf.Tensor4D;
        return downscale === 1 ? small : tf.image.resizeBilinear(small, [height, width], false, true);
      });
      const flat = (await out.data()) as Float32Array;
      out.dispose();
      return targetFeatures.map((_, row) => ({
        width,
        height,
        channels: 3 as const,
        data: Float32Array.from({ length: pixels }, (_, i) => Math.min(255, Math.max(0, meanImage.data[i]! + flat[row * pixels + i]! * 255))),
      }));
    },
    dispose() {
      tf.dispose(Object.values(weights));
    },
  };
}
