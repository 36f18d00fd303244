// Conversions between RgbImage (0..255) and the [1, H, W, 3] float tensors in [0, 1] the attack models take.
import * as tf from '@tensorflow/tfjs';
import { assertRgbImage, type RgbImage } from './image.ts';

export function imageToTensor(image: RgbImage): tf.Tensor4D {
  assertRgbImage(image, 'image');
  return tf.tidy(() => tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]).div(255));
}

/** Reads a [1, H, W, 3] tensor in [0, 1] back into a float RgbImage on the 0..255 scale. */
export async function tensorToImage(tensor: tf.Tensor): Promise<RgbImage> {
  const [batch, height, width, channels] = tensor.shape;
  if (tensor.rank !== 4 || batch !== 1 || channels !== 3 || height === undefined || width === undefined) {
    throw new Error(`tensorToImage: expected shape [1, H, W, 3], got [${tensor.shape.join(', ')}]`);
  }
  const scaled = tf.tidy(() => tensor.mul(255));
  const data = (await scaled.data()) as Float32Array;
  scaled.dispose();
  return { width, height, channels: 3, data };
}
