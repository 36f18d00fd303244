// Batched extraction from RGBA images: preprocess, forward, collect [CLS] tokens. Shared by the
// Web Worker and the Node `embed` command so both run exactly the same steps.

import type { ImageProcessorConfig } from './config.ts';
import type { VitModel } from './model.ts';
import { preprocessRgba } from './preprocess.ts';

export interface RgbaImage {
  rgba: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/**
 * Tokens for `images`, `batchSize` at a time. `afterBatch(done)` runs after each batch; it may
 * throw (e.g. on cancellation) to stop before the next one. Errors in an image name its index.
 */
export async function embedRgbaImages(
  model: VitModel,
  processor: ImageProcessorConfig,
  images: readonly RgbaImage[],
  batchSize: number,
  afterBatch?: (done: number) => void | Promise<void>,
): Promise<Float32Array[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  if (processor.size !== model.config.image_size) {
    throw new Error(`preprocessor size ${processor.size} differs from the model's image_size ${model.config.image_size}`);
  }
  const imageValues = 3 * processor.size * processor.size;
  const tokens: Float32Array[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const pixels = new Float32Array(batch.length * imageValues);
    batch.forEach((image, i) => {
      try {
        pixels.set(preprocessRgba(image.rgba, image.width, image.height, processor), i * imageValues);
      } catch (error) {
        throw new Error(`image ${start + i}: ${(error as Error).message}`, { cause: error });
      }
    });
    tokens.push(...(await model.embedBatch(pixels, batch.length)));
    await afterBatch?.(tokens.length);
  }
  return tokens;
}
