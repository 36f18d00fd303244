// Attack (c): the coordinator's view. The coordinator stores CKKS ciphertexts, evaluation (relinearisation/Galois)
// keys and wrapped keys, never a secret key. Under RLWE these are computationally indistinguishable from uniform
// noise whatever the tile was, so no function of them can estimate the tile better than a function of nothing at all.
// The best such "reconstruction" under mean squared error (hence PSNR) is the expected tile: the mean image of the
// data distribution, which the attacker can estimate from tiles of its own. Its score is the floor every
// reconstruction from the coordinator's view is judged against.
import { assertRgbImage, type RgbImage } from './image.ts';

/** Pixel-wise mean of same-sized images (float, 0..255): the MSE-optimal guess when nothing about the target is known. */
export function datasetMeanImage(images: readonly RgbImage[]): RgbImage {
  const first = images[0];
  if (!first) throw new Error('datasetMeanImage: needs at least one image');
  const sum = new Float64Array(first.data.length);
  images.forEach((image, index) => {
    assertRgbImage(image, `image ${index}`);
    if (image.width !== first.width || image.height !== first.height) {
      throw new Error(`datasetMeanImage: image ${index} is ${image.width}x${image.height}, image 0 is ${first.width}x${first.height}`);
    }
    for (let i = 0; i < sum.length; i++) sum[i]! += image.data[i]!;
  });
  return { width: first.width, height: first.height, channels: 3, data: Float32Array.from(sum, (s) => s / images.length) };
}
