// Attack (a): analytic recovery of a training image from plaintext gradients of a network whose first layer is fully
// connected with a bias. For one image x and first-layer pre-activations z = xW + b, the chain rule gives
// dL/dW[d, k] = x[d] · dL/db[k] for every hidden unit k, so each unit with a non-zero bias gradient carries a scaled
// copy of the whole image: x = dL/dW[:, k] / dL/db[k]. This is the gradient a standard federated client sends.
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from './image.ts';
import { imageToTensor } from './tensor-image.ts';

/** A two-layer perceptron on flattened RGB pixels in [0, 1]: dense(+bias) → ReLU → dense(+bias) → softmax. */
export interface FcFirstModel {
  readonly kernel1: tf.Tensor2D; // [pixels·3, hidden]
  readonly bias1: tf.Tensor1D;
  readonly kernel2: tf.Tensor2D; // [hidden, classes]
  readonly bias2: tf.Tensor1D;
}

/** Gradients of the first layer, flattened as a client would serialise them. */
export interface FirstLayerGradients {
  readonly kernel: Float32Array; // [inputSize, hidden] row-major
  readonly bias: Float32Array; // [hidden]
}

export function createFcFirstModel(inputSize: number, hidden: number, classes: number, seed: number): FcFirstModel {
  const glorot = (fanIn: number, fanOut: number, s: number) =>
    tf.randomUniform([fanIn, fanOut], -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), 'float32', s) as tf.Tensor2D;
  return {
    kernel1: glorot(inputSize, hidden, seed),
    bias1: tf.randomUniform([hidden], -0.1, 0.1, 'float32', seed + 1) as tf.Tensor1D,
    kernel2: glorot(hidden, classes, seed + 2),
    bias2: tf.zeros([classes]) as tf.Tensor1D,
  };
}

export function disposeFcFirstModel(model: FcFirstModel): void {
  tf.dispose([model.kernel1, model.bias1, model.kernel2, model.bias2]);
}

/** The first-layer gradients of the cross-entropy loss on one labelled image: what plaintext gradient sharing reveals. */
export async function fcFirstLayerGradients(model: FcFirstModel, image: RgbImage, label: number): Promise<FirstLayerGradients> {
  const classes = model.bias2.shape[0];
  if (!Number.isInteger(label) || label < 0 || label >= classes) throw new Error(`label ${label} is not a class index in 0..${classes - 1}`);
  const inputSize = image.width * image.height * 3;
  if (model.kernel1.shape[0] !== inputSize) {
    throw new Error(`image ${image.width}x${image.height}x3 = ${inputSize} values, but the model's first layer takes ${model.kernel1.shape[0]}`);
  }
  const [kernel, bias] = tf.tidy(() => {
    const x = imageToTensor(image).reshape([1, inputSize]);
    const target = tf.oneHot([label], classes);
    const loss = (k1: tf.Tensor, b1: tf.Tensor) => {
      const hidden = tf.relu(tf.matMul(x, k1).add(b1));
      return tf.losses.softmaxCrossEntropy(target, tf.matMul(hidden, model.kernel2).add(model.bias2)) as tf.Scalar;
    };
    return tf.grads(loss)([model.kernel1, model.bias1]);
  });
  const result = { kernel: (await kernel!.data()) as Float32Array, bias: (await bias!.data()) as Float32Array };
  tf.dispose([kernel!, bias!]);
  return result;
}

/**
 * Rebuilds the input image from first-layer gradients: the least-squares x over all hidden units,
 * x = Σ_k b_k·W[:, k] / Σ_k b_k² (units the ReLU switched off have b_k = 0 and drop out). Exact for a batch of one
 * image; with a larger batch it returns a bias-weighted blend of the batch's images.
 */
export function recoverImageFromFirstLayerGradients(gradients: FirstLayerGradients, width: number, height: number): RgbImage {
  const hidden = gradients.bias.length;
  const inputSize = width * height * 3;
  if (gradients.kernel.length !== inputSize * hidden) {
    throw new Error(`kernel gradient has ${gradients.kernel.length} values, expected ${inputSize} inputs x ${hidden} units`);
  }
  let norm = 0;
  for (const b of gradients.bias) norm += b * b;
  if (norm === 0) throw new Error('every first-layer bias gradient is zero: this update carries no image (loss saturated or all units off)');
  const data = new Float32Array(inputSize);
  for (let d = 0; d < inputSize; d++) {
    let acc = 0;
    for (let k = 0; k < hidden; k++) acc += gradients.bias[k]! * gradients.kernel[d * hidden + k]!;
    data[d] = Math.min(255, Math.max(0, (acc / norm) * 255));
  }
  return { width, height, channels: 3, data };
}
