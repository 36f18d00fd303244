// Batched extraction from RGBA images: preprocess, forward, collect [CLS] tokens. Shared by the
// Web Worker and the Node `embed` command so both run exactly the same steps; the browser's tile
// pipeline runs `preprocessBatch` in its decode worker and the forward pass in the ViT worker.

import type { ImageProcessorConfig } from './config.ts';
import type { VitModel } from './model.ts';
import { preprocessRgba } from './preprocess.ts';

export interface RgbaImage {
  rgba: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** Values of one preprocessed image (3 x size x size, CHW). */
export const imageValues = (processor: ImageProcessorConfig): number => 3 * processor.size * processor.size;

/** The model input for `images`, one CHW block after another; `label(i)` names an image in an error (default: its index). */
export function preprocessBatch(images: readonly RgbaImage[], processor: ImageProcessorConfig, label: (i: number) => string = (i) => `image ${i}`): Float32Array {
  const values = imageValues(processor);
  const pixels = new Float32Array(images.length * values);
  images.forEach((image, i) => {
    try {
      pixels.set(preprocessRgba(image.rgba, image.width, image.height, processor), i * values);
    } catch (error) {
      throw new Error(`${label(i)}: ${(error as Error).message}`, { cause: error });
    }
  });
  return pixels;
}

/** Refuses a preprocessor whose output size is not the model's input size (the forward pass would reject every batch). */
export function checkProcessorFits(model: VitModel, processor: ImageProcessorConfig): void {
  if (processor.size !== model.config.image_size) {
    throw new Error(`preprocessor size ${processor.size} differs from the model's image_size ${model.config.image_size}`);
  }
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
  checkProcessorFits(model, processor);
  const tokens: Float32Array[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const pixels = preprocessBatch(batch, processor, (i) => `image ${start + i}`);
    tokens.push(...(await model.embedBatch(pixels, batch.length)));
    await afterBatch?.(tokens.length);
  }
  return tokens;
}
