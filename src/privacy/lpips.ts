// LPIPS (Zhang et al. 2018, v0.1, AlexNet backbone) in tfjs, only with weights the user supplies. Without weights the
// metric is reported as unavailable: a number from random or guessed weights would look like LPIPS and mean nothing.
//
// Weights use PyTorch names and layouts ([out, in, kh, kw] convolutions), as torchvision's AlexNet plus the lpips
// package's linear heads store them: features.{0,3,6,8,10}.{weight,bias} (the full LPIPS state dict's
// net.slice{1..5}.{0,3,6,8,10}.* names are accepted too) and lin{0..4}.model.1.weight. A safetensors file read with
// src/vit/safetensors.ts (readSafetensors(bytes).tensors) has exactly this form.
import * as tf from '@tensorflow/tfjs';
import { assertSameSize, type RgbImage } from './image.ts';
import { imageToTensor } from './tensor-image.ts';

export interface LpipsTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}
export type LpipsWeights = ReadonlyMap<string, LpipsTensor>;

export type LpipsResult = { available: true; value: number } | { available: false; reason: string };

// AlexNet's five conv layers (torchvision indices, their LPIPS slice names, stride, padding, max-pool before them);
// LPIPS compares the ReLU output of each.
const ALEXNET_CONVS = [
  { name: 'features.0', alias: 'net.slice1.0', stride: 4, padding: 2, poolBefore: false },
  { name: 'features.3', alias: 'net.slice2.3', stride: 1, padding: 2, poolBefore: true },
  { name: 'features.6', alias: 'net.slice3.6', stride: 1, padding: 1, poolBefore: true },
  { name: 'features.8', alias: 'net.slice4.8', stride: 1, padding: 1, poolBefore: false },
  { name: 'features.10', alias: 'net.slice5.10', stride: 1, padding: 1, poolBefore: false },
] as const;

// LPIPS's ScalingLayer, applied to images in [-1, 1].
const SHIFT = [-0.03, -0.088, -0.188];
const SCALE = [0.458, 0.448, 0.45];

interface Layer {
  readonly filter: tf.Tensor4D; // [kh, kw, in, out]
  readonly bias: tf.Tensor1D;
  readonly head: tf.Tensor1D; // per-channel weights of the 1x1 linear head
  readonly stride: number;
  readonly padding: number;
  readonly poolBefore: boolean;
}

export interface LpipsNet {
  /** LPIPS distance (0 = perceptually identical) between two same-sized RGB images. */
  distance(a: RgbImage, b: RgbImage): Promise<number>;
  dispose(): void;
}

function weight(weights: LpipsWeights, names: readonly string[]): LpipsTensor {
  for (const name of names) {
    const tensor = weights.get(name);
    if (tensor) {
      const size = tensor.shape.reduce((n, d) => n * d, 1);
      if (tensor.data.length !== size) throw new Error(`LPIPS weight ${name}: shape [${tensor.shape.join(', ')}] needs ${size} values, has ${tensor.data.length}`);
      return tensor;
    }
  }
  throw new Error(`LPIPS weights lack ${names.join(' (or ')}${names.length > 1 ? ')' : ''}`);
}

/** Validates the weights against the AlexNet-LPIPS architecture and uploads them. Channel widths come from the shapes. */
export function createLpipsNet(weights: LpipsWeights): LpipsNet {
  const layers: Layer[] = [];
  let channelsIn = 3;
  try {
    ALEXNET_CONVS.forEach((conv, index) => {
      const names = (suffix: string) => [`${conv.name}.${suffix}`, `${conv.alias}.${suffix}`];
      const filter = weight(weights, names('weight'));
      const [out, inChannels, kh, kw] = filter.shape;
      if (filter.shape.length !== 4 || inChannels !== channelsIn || out === undefined || kh === undefined || kw === undefined) {
        throw new Error(`LPIPS weight ${conv.name}.weight: expected shape [out, ${channelsIn}, kh, kw], got [${filter.shape.join(', ')}]`);
      }
      const bias = weight(weights, names('bias'));
      if (bias.shape.length !== 1 || bias.shape[0] !== out) {
        throw new Error(`LPIPS weight ${conv.name}.bias: expected shape [${out}], got [${bias.shape.join(', ')}]`);
      }
      const headName = `lin${index}.model.1.weight`;
      const head = weight(weights, [headName]);
      if (head.shape.join() !== [1, out, 1, 1].join()) {
        throw new Error(`LPIPS weight ${headName}: expected shape [1, ${out}, 1, 1], got [${head.shape.join(', ')}]`);
      }
      layers.push({
        filter: tf.tidy(() => tf.tensor4d(filter.data, [out, inChannels, kh, kw]).transpose([2, 3, 1, 0]) as tf.Tensor4D),
        bias: tf.tensor1d(bias.data),
        head: tf.tensor1d(head.data),
        stride: conv.stride,
        padding: conv.padding,
        poolBefore: conv.poolBefore,
      });
      channelsIn = out;
    });
  } catch (error) {
    tf.dispose(layers.flatMap((l) => [l.filter, l.bias, l.head]));
    throw error;
  }

  const features = (image: RgbImage): tf.Tensor4D[] => {
    let x = imageToTensor(image).mul(2).sub(1).sub(tf.tensor1d(SHIFT)).div(tf.tensor1d(SCALE)) as tf.Tensor4D;
    return layers.map((layer) => {
      if (layer.poolBefore) x = tf.maxPool(x, 3, 2, 'valid');
      const p = layer.padding;
      x = tf.relu(tf.conv2d(x, layer.filter, layer.stride, [[0, 0], [p, p], [p, p], [0, 0]]).add(layer.bias)) as tf.Tensor4D;
      return x;
    });
  };
  const unitNormalised = (f: tf.Tensor4D) => f.div(f.square().sum(3, true).sqrt().add(1e-10));

  return {
    async distance(a, b) {
      assertSameSize(a, b);
      checkLargeEnough(a, layers);
      const total = tf.tidy(() => {
        const fa = features(a);
        const fb = features(b);
        const perLayer = layers.map((layer, i) =>
          unitNormalised(fa[i]!).sub(unitNormalised(fb[i]!)).square().mul(layer.head).sum(3).mean(),
        );
        return tf.addN(perLayer);
      });
      const value = (await total.data())[0]!;
      total.dispose();
      return value;
    },
    dispose() {
      tf.dispose(layers.flatMap((l) => [l.filter, l.bias, l.head]));
    },
  };
}

/** AlexNet shrinks the image 32-fold before its last layers; refuse sizes where a layer would have no pixels. */
function checkLargeEnough(image: RgbImage, layers: readonly Layer[]): void {
  let [h, w] = [image.height, image.width];
  for (const [index, layer] of layers.entries()) {
    if (layer.poolBefore) [h, w] = [Math.floor((h - 3) / 2) + 1, Math.floor((w - 3) / 2) + 1];
    const [kh, kw] = layer.filter.shape;
    [h, w] = [Math.floor((h + 2 * layer.padding - kh) / layer.stride) + 1, Math.floor((w + 2 * layer.padding - kw) / layer.stride) + 1];
    if (!(h >= 1 && w >= 1)) {
      throw new Error(`LPIPS: ${image.width}x${image.height} images are too small for AlexNet (no pixels left at conv layer ${index + 1})`);
    }
  }
}

/**
 * LPIPS between two images, or {available: false} with the reason when no weights are given. One-off convenience:
 * for many pairs, create the network once with createLpipsNet.
 */
export async function lpips(a: RgbImage, b: RgbImage, weights?: LpipsWeights): Promise<LpipsResult> {
  assertSameSize(a, b);
  if (!weights) {
    return {
      available: false,
      reason: 'LPIPS needs AlexNet-LPIPS network weights (torchvision AlexNet features + lpips v0.1 linear heads); none were supplied',
    };
  }
  const net = createLpipsNet(weights);
  try {
    return { available: true, value: await net.distance(a, b) };
  } finally {
    net.dispose();
  }
}
