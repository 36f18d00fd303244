// Attack (b): optimisation-based gradient inversion ("gradient matching", Zhu et al. 2019; Geiping et al. 2020) against
// plaintext gradient sharing. The attacker knows the model (the server sent it) and sees one client's gradients; it
// searches for the image whose gradients match them, with a total-variation prior towards natural images.
//
// Matching needs the gradient of a gradient. tfjs cannot differentiate through ops that save their outputs (sigmoid,
// exp), and its wasm backend has no conv-filter-gradient kernel at all, so convolutions are written as patch
// extraction + matMul and the model's backward pass is written out by hand in ordinary differentiable ops
// (cnnGradients); the test checks both against tfjs's own conv2d and tf.grads.
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from './image.ts';
import { tensorToImage } from './tensor-image.ts';

/** conv5x5(3→c) → sigmoid → conv5x5(c→c) → sigmoid → dense(classes), all with biases, 'valid' padding, stride 1. */
export interface SmallCnn {
  readonly conv1: tf.Tensor4D;
  readonly bias1: tf.Tensor1D;
  readonly conv2: tf.Tensor4D;
  readonly bias2: tf.Tensor1D;
  readonly dense: tf.Tensor2D;
  readonly bias3: tf.Tensor1D;
}

const KERNEL = 5;

export function createSmallCnn(imageSize: number, channels: number, classes: number, seed: number): SmallCnn {
  const featureSize = imageSize - 2 * (KERNEL - 1);
  if (featureSize < 1) throw new Error(`createSmallCnn: images of ${imageSize} px are too small for two ${KERNEL}x${KERNEL} convolutions`);
  const uniform = (shape: number[], fanIn: number, s: number) => tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', s);
  const flat = featureSize * featureSize * channels;
  return {
    conv1: uniform([KERNEL, KERNEL, 3, channels], KERNEL * KERNEL * 3, seed) as tf.Tensor4D,
    bias1: uniform([channels], KERNEL * KERNEL * 3, seed + 1) as tf.Tensor1D,
    conv2: uniform([KERNEL, KERNEL, channels, channels], KERNEL * KERNEL * channels, seed + 2) as tf.Tensor4D,
    bias2: uniform([channels], KERNEL * KERNEL * channels, seed + 3) as tf.Tensor1D,
    dense: uniform([flat, classes], flat, seed + 4) as tf.Tensor2D,
    bias3: uniform([classes], flat, seed + 5) as tf.Tensor1D,
  };
}

/** Every parameter tensor of the model, in a fixed order (gradients come back in the same order). */
export function cnnParameters(model: SmallCnn): tf.Tensor[] {
  return [model.conv1, model.bias1, model.conv2, model.bias2, model.dense, model.bias3];
}

/** Softmax cross-entropy of the model on `x` ([1, S, S, 3] in [0, 1]) with integer `label`. */
export function cnnLoss(model: SmallCnn, x: tf.Tensor4D, label: number): tf.Scalar {
  return tf.tidy(() => {
    const { logits } = forward(model, x);
    return tf.losses.softmaxCrossEntropy(tf.oneHot([label], model.bias3.shape[0]), logits) as tf.Scalar;
  });
}

/** [1, H, W, C] → [(H−k+1)·(W−k+1), k·k·C]: every k×k window, ordered (row, column, channel) like a [k, k, C, ·] filter. */
function patches(x: tf.Tensor4D): tf.Tensor2D {
  const [, height, width, channels] = x.shape;
  const windows: tf.Tensor4D[] = [];
  for (let i = 0; i < KERNEL; i++) {
    for (let j = 0; j < KERNEL; j++) windows.push(x.slice([0, i, j, 0], [1, height - KERNEL + 1, width - KERNEL + 1, channels]));
  }
  return tf.concat(windows, 3).reshape([-1, KERNEL * KERNEL * channels]);
}

/** Stride-1 'valid' convolution as patches · filter (equal to tf.conv2d, and twice differentiable on every backend). */
function conv(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  const [, height, width] = x.shape;
  const out = tf.matMul(patches(x), filter.reshape([-1, filter.shape[3]]));
  return out.reshape([1, height - KERNEL + 1, width - KERNEL + 1, filter.shape[3]]);
}

/** dL/dfilter of conv: patchesᵀ · output gradient. */
function convFilterGradient(x: tf.Tensor4D, outputGradient: tf.Tensor4D): tf.Tensor4D {
  const [, , , channelsIn] = x.shape;
  const channelsOut = outputGradient.shape[3];
  return tf.matMul(patches(x), outputGradient.reshape([-1, channelsOut]), true, false).reshape([KERNEL, KERNEL, channelsIn, channelsOut]);
}

/** dL/dinput of conv: output gradient · filterᵀ, each window's share added back at its offset. */
function convInputGradient(outputGradient: tf.Tensor4D, filter: tf.Tensor4D, inputShape: [number, number, number, number]): tf.Tensor4D {
  const [, height, width, channelsIn] = inputShape;
  const [, outHeight, outWidth, channelsOut] = outputGradient.shape;
  const windowGradients = tf.matMul(outputGradient.reshape([-1, channelsOut]), filter.reshape([-1, channelsOut]), false, true);
  const shares: tf.Tensor4D[] = [];
  for (let i = 0; i < KERNEL; i++) {
    for (let j = 0; j < KERNEL; j++) {
      const share = windowGradients.slice([0, (i * KERNEL + j) * channelsIn], [-1, channelsIn]).reshape([1, outHeight, outWidth, channelsIn]);
      shares.push(share.pad([[0, 0], [i, height - outHeight - i], [j, width - outWidth - j], [0, 0]]));
    }
  }
  return tf.addN(shares);
}

function forward(model: SmallCnn, x: tf.Tensor4D) {
  const h1 = tf.sigmoid(conv(x, model.conv1).add(model.bias1)) as tf.Tensor4D;
  const h2 = tf.sigmoid(conv(h1, model.conv2).add(model.bias2)) as tf.Tensor4D;
  const flat = h2.reshape([1, -1]) as tf.Tensor2D;
  return { h1, h2, flat, logits: tf.matMul(flat, model.dense).add(model.bias3) as tf.Tensor2D };
}

/**
 * The parameter gradients of cnnLoss (same order as cnnParameters), computed by an explicit backward pass so the
 * result stays differentiable with respect to `x`.
 */
export function cnnGradients(model: SmallCnn, x: tf.Tensor4D, label: number): tf.Tensor[] {
  return tf.tidy(() => {
    const { h1, h2, flat, logits } = forward(model, x);
    const dLogits = tf.softmax(logits).sub(tf.oneHot([label], model.bias3.shape[0])); // [1, classes]
    const dDense = tf.matMul(flat, dLogits, true, false);
    const dZ2 = tf.matMul(dLogits, model.dense, false, true).reshape(h2.shape).mul(h2.mul(tf.scalar(1).sub(h2))) as tf.Tensor4D;
    const dH1 = convInputGradient(dZ2, model.conv2, h1.shape);
    const dZ1 = dH1.mul(h1.mul(tf.scalar(1).sub(h1))) as tf.Tensor4D;
    return [
      convFilterGradient(x, dZ1),
      dZ1.sum([0, 1, 2]),
      convFilterGradient(h1, dZ2),
      dZ2.sum([0, 1, 2]),
      dDense,
      dLogits.reshape([-1]),
    ];
  });
}

/**
 * iDLG's label inference: with softmax cross-entropy the last bias gradient is softmax − one-hot, negative only at
 * the true class.
 */
export function inferLabel(lastBiasGradient: ArrayLike<number>): number {
  let label = 0;
  for (let c = 1; c < lastBiasGradient.length; c++) if (lastBiasGradient[c]! < lastBiasGradient[label]!) label = c;
  return label;
}

/** Anisotropic total variation of a [1, H, W, 3] image: mean absolute difference between neighbours. */
function totalVariation(x: tf.Tensor4D): tf.Scalar {
  const [, height, width] = x.shape;
  const dy = x.slice([0, 1, 0, 0], [1, height - 1, width, 3]).sub(x.slice([0, 0, 0, 0], [1, height - 1, width, 3]));
  const dx = x.slice([0, 0, 1, 0], [1, height, width - 1, 3]).sub(x.slice([0, 0, 0, 0], [1, height, width - 1, 3]));
  return dy.abs().mean().add(dx.abs().mean());
}

export interface GradientMatchingOptions {
  /** Adam steps (default 300: about 42 dB on a 16x16 crop of a tissue tile, ~5 s on wasm; see README for larger). */
  iterations?: number;
  /** Adam learning rate on pixels in [0, 1] (default 0.1). */
  learningRate?: number;
  /**
   * Weight of the total-variation prior (default 1e-4). Small on purpose: tissue tiles have real pixel-level grain
   * that a strong prior smooths away (0.01 cost over 10 dB at 16 px). At 32 px, where 300 steps leave noise, 1e-3
   * did better (23 vs 19 dB).
   */
  tvWeight?: number;
  /** Seed of the random starting image. */
  seed?: number;
}

export interface GradientMatchingResult {
  image: RgbImage;
  label: number;
  /** The gradient distance at the end, without the prior (0 = the gradients match exactly). */
  finalDistance: number;
}

/**
 * Searches for the image whose gradients best match `targetGradients` (1 − cosine similarity, Geiping et al., averaged
 * over the parameter tensors) plus tvWeight·TV, with Adam and pixels kept in [0, 1], from a seeded random start.
 * The label comes from the gradients themselves (inferLabel), as the attacker would get it.
 */
export async function invertGradients(
  model: SmallCnn,
  targetGradients: readonly tf.Tensor[],
  imageSize: number,
  options: GradientMatchingOptions = {},
): Promise<GradientMatchingResult> {
  const { iterations = 300, learningRate = 0.1, tvWeight = 1e-4, seed = 1 } = options;
  const last = targetGradients[targetGradients.length - 1];
  if (targetGradients.length !== cnnParameters(model).length || !last) {
    throw new Error(`invertGradients: expected ${cnnParameters(model).length} gradient tensors, got ${targetGradients.length}`);
  }
  const expectedRows = (imageSize - 2 * (KERNEL - 1)) ** 2 * model.conv2.shape[3];
  if (model.dense.shape[0] !== expectedRows) {
    throw new Error(`invertGradients: the model's dense layer takes ${model.dense.shape[0]} features, not the ${expectedRows} of ${imageSize} px images`);
  }
  const label = inferLabel(await last.data());
  // Inside tidy so the random starting tensor is freed; tidy never disposes variables.
  const x = tf.tidy(() => tf.variable(tf.randomUniform([1, imageSize, imageSize, 3], 0, 1, 'float32', seed) as tf.Tensor4D));
  const optimizer = tf.train.adam(learningRate);
  // Per parameter tensor, then averaged, so the first convolution (whose gradient is built from the pixels themselves)
  // weighs as much as the dense layer, whose much larger gradient would otherwise dominate and be matched by almost
  // any image. (Cosine rather than DLG's Euclidean distance: it reached 24 dB where Euclidean reached 15 in our runs.)
  const distance = (candidate: tf.Tensor4D) =>
    tf.tidy(() => {
      const grads = cnnGradients(model, candidate, label);
      const perTensor = grads.map((g, i) => {
        const target = targetGradients[i]!;
        return tf.scalar(1).sub(g.mul(target).sum().div(tf.sqrt(g.square().sum().mul(target.square().sum())).add(1e-12)));
      });
      return tf.addN(perTensor).div(perTensor.length) as tf.Scalar;
    });
  try {
    for (let step = 0; step < iterations; step++) {
      optimizer.minimize(() => distance(x).add(totalVariation(x).mul(tvWeight)) as tf.Scalar, false, [x]);
      tf.tidy(() => x.assign(x.clipByValue(0, 1) as tf.Tensor4D));
    }
    const finalTensor = distance(x);
    const finalDistance = (await finalTensor.data())[0]!;
    finalTensor.dispose();
    return { image: await tensorToImage(x), label, finalDistance };
  } finally {
    x.dispose();
    optimizer.dispose();
  }
}
