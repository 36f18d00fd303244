// Baseline TIFF reader for tiles: uncompressed (Compression 1), 8 bits per sample, chunky (interleaved) RGB, RGBA or
// greyscale in strips, either byte order. Browsers cannot decode TIFF, and whole-slide scanners export many variants;
// everything else (LZW, Deflate, JPEG, PackBits, tiles, planar, 16-bit, palette, BigTIFF) is refused with a message
// that names the feature, so a user knows to re-export as PNG rather than get a silently wrong image.
const TAG = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  stripOffsets: 273,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  stripByteCounts: 279,
  planarConfiguration: 284,
  tileWidth: 322,
} as const;

const COMPRESSION_NAMES: Record<number, string> = { 2: 'CCITT', 5: 'LZW', 6: 'old-style JPEG', 7: 'JPEG', 8: 'Deflate', 32773: 'PackBits', 32946: 'Deflate' };
const PHOTOMETRIC_NAMES: Record<number, string> = { 3: 'palette colour', 4: 'transparency mask', 5: 'CMYK', 6: 'YCbCr', 8: 'CIELab' };

export class TiffError extends Error {
  override readonly name = 'TiffError';
}

export function isTiff(bytes: Uint8Array): boolean {
  return (bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) || (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42);
}

export interface TiffImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export function decodeBaselineTiff(bytes: Uint8Array, name: string, maxPixels: number): TiffImage {
  const fail = (why: string): never => {
    throw new TiffError(`${name}: ${why}`);
  };
  if (bytes.length < 8) fail('is too short to be a TIFF file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  if (!isTiff(bytes)) {
    if (view.getUint16(2, little) === 43) fail('is a BigTIFF file; only baseline TIFF is supported — export the tile as PNG');
    fail('is not a TIFF file');
  }
  const u16 = (at: number) => (at + 2 <= bytes.length ? view.getUint16(at, little) : fail(`is truncated (offset ${at})`));
  const u32 = (at: number) => (at + 4 <= bytes.length ? view.getUint32(at, little) : fail(`is truncated (offset ${at})`));

  const ifd = u32(4);
  const count = u16(ifd);
  const tags = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    const tag = u16(entry);
    const type = u16(entry + 2);
    const n = u32(entry + 4);
    const size = type === 3 ? 2 : type === 4 ? 4 : type === 1 ? 1 : 0;
    if (size === 0) continue; // rationals, strings: nothing a baseline pixel reader needs
    if (n > 1 << 20) fail(`tag ${tag} claims ${n} values`);
    const at = n * size <= 4 ? entry + 8 : u32(entry + 8);
    const values: number[] = [];
    for (let k = 0; k < n; k++) values.push(size === 2 ? u16(at + 2 * k) : size === 4 ? u32(at + 4 * k) : (bytes[at + k] ?? fail(`is truncated (tag ${tag})`)));
    tags.set(tag, values);
  }
  const one = (tag: number, fallback?: number): number => tags.get(tag)?.[0] ?? fallback ?? fail(`has no tag ${tag}`);
  const width = one(TAG.width);
  const height = one(TAG.height);
  if (width < 1 || height < 1) fail(`has an empty image (${width}x${height})`);
  if (width * height > maxPixels) fail(`is ${width}x${height} pixels; tiles are capped at ${maxPixels.toLocaleString('en')} pixels`);
  const compression = one(TAG.compression, 1);
  if (compression !== 1) fail(`uses ${COMPRESSION_NAMES[compression] ?? `compression ${compression}`} compression; only uncompressed TIFF is supported — export the tile as PNG`);
  if (tags.has(TAG.tileWidth)) fail('is stored in tiles rather than strips; only strip TIFF is supported — export the tile as PNG');
  if (one(TAG.planarConfiguration, 1) !== 1) fail('stores colour planes separately (PlanarConfiguration 2); only interleaved TIFF is supported');
  const photometric = one(TAG.photometric);
  const samples = one(TAG.samplesPerPixel, 1);
  const bits = tags.get(TAG.bitsPerSample) ?? [1];
  if (bits.some((b) => b !== 8)) fail(`has ${bits.join('/')} bits per sample; only 8-bit TIFF is supported`);
  const grey = photometric === 0 || photometric === 1;
  if (!grey && photometric !== 2) fail(`uses ${PHOTOMETRIC_NAMES[photometric] ?? `photometric ${photometric}`} colour; only RGB or greyscale TIFF is supported`);
  if (grey ? samples < 1 : samples < 3) fail(`has ${samples} samples per pixel, too few for ${grey ? 'greyscale' : 'RGB'}`);

  const offsets = tags.get(TAG.stripOffsets) ?? fail('has no strip offsets');
  const counts = tags.get(TAG.stripByteCounts) ?? fail('has no strip byte counts');
  if (offsets.length !== counts.length) fail(`has ${offsets.length} strip offsets but ${counts.length} strip byte counts`);
  const needed = width * height * samples;
  const pixels = new Uint8Array(needed);
  let filled = 0;
  for (const [s, offset] of offsets.entries()) {
    const length = Math.min(counts[s] as number, needed - filled);
    if (offset + length > bytes.length) fail(`strip ${s} runs past the end of the file`);
    pixels.set(bytes.subarray(offset, offset + length), filled);
    filled += length;
  }
  if (filled < needed) fail(`holds ${filled} bytes of pixels; ${width}x${height}x${samples} needs ${needed}`);

  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const src = p * samples;
    if (grey) {
      const v = photometric === 0 ? 255 - (pixels[src] as number) : (pixels[src] as number);
      rgba[4 * p] = v;
      rgba[4 * p + 1] = v;
      rgba[4 * p + 2] = v;
    } else {
      rgba[4 * p] = pixels[src] as number;
      rgba[4 * p + 1] = pixels[src + 1] as number;
      rgba[4 * p + 2] = pixels[src + 2] as number;
    }
    rgba[4 * p + 3] = 255;
  }
  return { width, height, rgba };
}
