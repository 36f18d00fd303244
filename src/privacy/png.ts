// Node-only PNG access for the privacy metrics and attacks (pngjs). Kept apart from image.ts so the metrics stay
// importable in the browser, where pixels come from a canvas instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { rgbaFromRgb, rgbFromRgba, type RgbImage } from './image.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes an 8-bit PNG (grey, RGB, palette, with or without alpha) to RGB; alpha is dropped. `name` labels errors. */
export function decodePng(bytes: Uint8Array, name: string): RgbImage {
  if (!PNG_SIGNATURE.every((byte, i) => bytes[i] === byte)) throw new Error(`${name}: not a PNG file (no PNG signature)`);
  let png;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new Error(`${name}: corrupt PNG (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  // pngjs would silently rescale 16-bit samples to 8 bits; scikit-image keeps them as uint16, so the two would
  // disagree about the data range. Refuse rather than compare different things.
  if (png.depth === 16) throw new Error(`${name}: 16-bit PNGs are not supported (the metrics use data range 255)`);
  return rgbFromRgba(png.width, png.height, png.data);
}

/** Encodes an RGB image (values rounded and clamped to 0..255) as an 8-bit RGB PNG. */
export function encodePng(image: RgbImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(rgbaFromRgb(image).buffer);
  return PNG.sync.write(png, { colorType: 2, inputHasAlpha: true });
}

/** Reads a PNG file as RGB, with errors that name the path. */
export function readPng(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new Error(`${path}: cannot read file (${reason})`, { cause: error });
  }
  return decodePng(bytes, path);
}

export function writePng(path: string, image: RgbImage): void {
  writeFileSync(path, encodePng(image));
}
