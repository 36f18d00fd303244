// What a slide file is, from its first bytes and its TIFF directories, and the refusals for what this reader does not
// read: each names the format and how to convert it, so a pathologist can act on it.
import { toHex } from '../common/hex.ts';

/** The conversion every refusal offers: libvips writes a tiled pyramidal TIFF this reader (and OpenSlide) reads. */
export const CONVERT_HINT = 'convert it with `vips tiffsave <input> out.tif --tile --pyramid --compression jpeg --Q 85` and open out.tif';

/** A slide that cannot be read, naming the file and what is wrong with it. */
export class SlideError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'SlideError';
    this.file = file;
  }
}

/** Checks the first bytes (at least 132) and throws for what is not a TIFF or BigTIFF. */
export function sniffSlide(file: string, head: Uint8Array): void {
  const ascii = (from: number, to: number): string => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 132 && ascii(128, 132) === 'DICM') {
    throw new SlideError(file, `a DICOM file (DICOM WSI is not read here); export the slide as TIFF or ${CONVERT_HINT}`);
  }
  if (head[0] === 0xff && head[1] === 0xd8) throw new SlideError(file, 'a JPEG image, not a slide: add it as a tile instead');
  if (head[0] === 0x89 && ascii(1, 4) === 'PNG') throw new SlideError(file, 'a PNG image, not a slide: add it as a tile instead');
  if (ascii(0, 4) === '\0\0\0\x0c' && ascii(4, 8) === 'jP  ') throw new SlideError(file, `a JPEG 2000 image, not a tiled slide; ${CONVERT_HINT}`);
  const order = ascii(0, 2);
  if (order !== 'II' && order !== 'MM') {
    if (ascii(0, 4) === 'PK\x03\x04') throw new SlideError(file, `a ZIP archive (e.g. a MIRAX or DICOM export), not a slide file; ${CONVERT_HINT}`);
    throw new SlideError(file, `not a TIFF file (it starts with bytes ${toHex(head.subarray(0, 4))}); ${CONVERT_HINT}`);
  }
  const version = order === 'II' ? (head[2] ?? 0) | ((head[3] ?? 0) << 8) : ((head[2] ?? 0) << 8) | (head[3] ?? 0);
  if (version !== 42 && version !== 43) throw new SlideError(file, `not a TIFF file (version ${version}, expected 42 or BigTIFF 43)`);
}

/**
 * Compression codes read here: geotiff's (none, LZW, JPEG, Deflate x2, PackBits, zstd, WebP) and Aperio's JPEG 2000
 * (33003 YCbCr, 33005 RGB; jpeg2000.ts).
 */
const READABLE_COMPRESSION = new Set([1, 5, 7, 8, 32946, 32773, 50000, 50001, 33003, 33005]);

/** Throws a precise refusal for a compression this reader cannot decode. */
export function checkCompression(file: string, compression: number): void {
  if (READABLE_COMPRESSION.has(compression)) return;
  if (compression === 33004 || compression === 34712) {
    throw new SlideError(file, `JPEG 2000 tiles tagged ${compression} (not Aperio's 33003/33005, so their colour space is unknown) are not read; ${CONVERT_HINT}`);
  }
  if (compression === 6) throw new SlideError(file, `old-style JPEG (TIFF compression 6) is not supported; ${CONVERT_HINT}`);
  throw new SlideError(file, `TIFF compression ${compression} is not supported; ${CONVERT_HINT}`);
}

/** Refuses Hamamatsu NDPI (each level is one huge JPEG with restart-marker offsets in private tags). */
export function checkNotNdpi(file: string, hasNdpiTag: boolean, make: string | undefined): void {
  if (hasNdpiTag || /hamamatsu/i.test(make ?? '')) {
    throw new SlideError(file, `a Hamamatsu NDPI slide, which this reader does not read; ${CONVERT_HINT}`);
  }
}

/** What an Aperio ImageDescription says: `Aperio ...\n<dimensions line>|Key = value|...`. */
export interface AperioDescription {
  /** first word of the second line: 'label', 'macro' for associated images, dimensions for levels */
  kind: string;
  fields: Map<string, string>;
}

export function parseAperioDescription(description: string): AperioDescription | null {
  const text = description.replace(/\0+$/, '');
  if (!text.startsWith('Aperio')) return null;
  const [head = '', ...pairs] = text.split('|');
  const secondLine = head.split(/\r?\n/)[1] ?? '';
  const fields = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return { kind: secondLine.trim().split(' ')[0] ?? '', fields };
}

/** A positive finite number from a description field, or null (never a default: missing MPP is asked for). */
export function positiveNumber(value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

// TIFF resolution units: 2 inch, 3 centimetre. Anything below 0.05 or above 20 µm/px is not a microscope scan (72 dpi
// defaults come out near 350 µm/px), so it is treated as missing and the user is asked.
export function mppFromResolution(resolution: number | null, unit: number | undefined): number | null {
  if (!resolution || resolution <= 0) return null;
  const micronsPerUnit = unit === 3 ? 10_000 : unit === 2 ? 25_400 : null;
  if (micronsPerUnit === null) return null;
  const mpp = micronsPerUnit / resolution;
  return mpp >= 0.05 && mpp <= 20 ? mpp : null;
}
