// The image type the privacy metrics and attacks share. It is browser-safe (no Node imports): PNG file access lives
// in png.ts, which only Node code imports.

/** An RGB image, pixels interleaved row-major (HWC), values on the 0..255 scale (uint8, or float for reconstructions). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
  readonly data: Uint8Array | Float32Array;
}

/** Throws a precise error unless `image` is a well-formed RgbImage; `name` says which argument it is. */
export function assertRgbImage(image: RgbImage, name: string): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new Error(`${name}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 3) throw new Error(`${name}: expected 3 channels (RGB), got ${String(channels)}`);
  if (data.length !== width * height * 3) {
    throw new Error(`${name}: data has ${data.length} values, expected ${width}x${height}x3 = ${width * height * 3}`);
  }
}

/** Throws unless both are well-formed and the same size: every metric compares pixel by pixel. */
export function assertSameSize(a: RgbImage, b: RgbImage): void {
  assertRgbImage(a, 'first image');
  assertRgbImage(b, 'second image');
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`image sizes differ: first is ${a.width}x${a.height}, second is ${b.width}x${b.height}`);
  }
}

/** Drops the alpha channel of RGBA pixels (as decoded from PNG or an ImageData): the metrics are defined on RGB. */
export function rgbFromRgba(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): RgbImage {
  if (rgba.length !== width * height * 4) {
    throw new Error(`RGBA data has ${rgba.length} values, expected ${width}x${height}x4 = ${width * height * 4}`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[3 * p] = rgba[4 * p]!;
    data[3 * p + 1] = rgba[4 * p + 1]!;
    data[3 * p + 2] = rgba[4 * p + 2]!;
  }
  return { width, height, channels: 3, data };
}

/** Rounds and clamps to uint8 RGBA (opaque) for display or PNG encoding. */
export function rgbaFromRgb(image: RgbImage): Uint8ClampedArray {
  assertRgbImage(image, 'image');
  const pixels = image.width * image.height;
  const rgba = new Uint8ClampedArray(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    rgba[4 * p] = image.data[3 * p]!;
    rgba[4 * p + 1] = image.data[3 * p + 1]!;
    rgba[4 * p + 2] = image.data[3 * p + 2]!;
    rgba[4 * p + 3] = 255;
  }
  return rgba;
}
