// Joins single-image TIFFs written by libvips into one multi-directory TIFF or BigTIFF, copying every tile and strip
// byte for byte. tiffcp cannot be used for this: it decodes and re-encodes JPEG, which turns RGB tiles into YCbCr and
// changes the quality, so the two Aperio JPEG flavours (YCbCr below Q90, RGB above) would not survive.
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { fromFile } from 'geotiff';

/** One directory of the output: a source file (its first image) and the subfile type to mark it with. */
export interface AssemblyPart {
  path: string;
  newSubfileType: number;
  /** rewrites each tile or strip on the way (same length), e.g. to mark JPEG components the way Aperio does */
  patch?: (bytes: Buffer) => Buffer;
}

/**
 * Renames JPEG components 'R','G','B' (libjpeg's mark for RGB, which libvips writes above Q90) to 1,2,3, as in Aperio's
 * RGB tiles: the codestream then says nothing about its colour space and only the TIFF Photometric tag tells.
 */
export function unmarkJpegRgb(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const rename = (at: number, c: number): void => {
    if (out[at] === [0x52, 0x47, 0x42][c]) out[at] = c + 1;
  };
  for (let i = 0; i + 1 < out.length; i++) {
    if (out[i] !== 0xff) continue;
    const marker = out[i + 1];
    // SOF0/SOF1: 9 bytes of header, then (id, sampling, table) per component; SOS: count, then (id, tables) pairs
    if (marker === 0xc0 || marker === 0xc1) for (let c = 0; c < (out[i + 9] ?? 0); c++) rename(i + 10 + c * 3, c);
    if (marker === 0xda) {
      for (let c = 0; c < (out[i + 4] ?? 0); c++) rename(i + 5 + c * 2, c);
      break;
    }
  }
  return out;
}

const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const UNDEFINED = 7;
const LONG8 = 16;

// Tags copied from the sources, with the type they are written as (offsets become LONG8 in BigTIFF).
const COPIED: readonly [name: string, tag: number, type: number][] = [
  ['ImageWidth', 256, LONG],
  ['ImageLength', 257, LONG],
  ['BitsPerSample', 258, SHORT],
  ['Compression', 259, SHORT],
  ['PhotometricInterpretation', 262, SHORT],
  ['SamplesPerPixel', 277, SHORT],
  ['RowsPerStrip', 278, LONG],
  ['XResolution', 282, RATIONAL],
  ['YResolution', 283, RATIONAL],
  ['PlanarConfiguration', 284, SHORT],
  ['ResolutionUnit', 296, SHORT],
  ['Predictor', 317, SHORT],
  ['TileWidth', 322, LONG],
  ['TileLength', 323, LONG],
  ['JPEGTables', 347, UNDEFINED],
  ['YCbCrSubsampling', 530, SHORT],
];

interface Entry {
  tag: number;
  type: number;
  values: number[];
}

const TYPE_SIZE: Record<number, number> = { [SHORT]: 2, [LONG]: 4, [RATIONAL]: 8, [UNDEFINED]: 1, [LONG8]: 8 };

function readBytes(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  readSync(fd, buffer, 0, length, offset);
  return buffer;
}

function asNumbers(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number' || typeof value === 'bigint') return [Number(value)];
  return Array.from(value as ArrayLike<number | bigint>, Number);
}

/** Writes `parts` into one little-endian TIFF (BigTIFF when `bigTiff`) at `out`. */
export async function assembleTiff(parts: readonly AssemblyPart[], out: string, bigTiff: boolean): Promise<void> {
  const chunks: Buffer[] = [];
  let position = bigTiff ? 16 : 8;
  const append = (bytes: Buffer): number => {
    const at = position;
    chunks.push(bytes);
    position += bytes.length;
    if (position % 2) {
      chunks.push(Buffer.alloc(1));
      position += 1;
    }
    return at;
  };
  const directories: Entry[][] = [];
  for (const part of parts) {
    const tiff = await fromFile(part.path);
    const image = await tiff.getImage(0);
    const directory = image.fileDirectory;
    const entries: Entry[] = [{ tag: 254, type: LONG, values: [part.newSubfileType] }];
    for (const [name, tag, type] of COPIED) {
      if (!directory.hasTag(name as never)) continue;
      // rationals come back as raw numerator, denominator pairs, which is how they are written
      const values = asNumbers(await directory.loadValue(name as never));
      entries.push({ tag, type, values });
    }
    const tiled = directory.hasTag('TileOffsets');
    const offsets = asNumbers(await directory.loadValue(tiled ? 'TileOffsets' : 'StripOffsets'));
    const counts = asNumbers(await directory.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts'));
    const fd = openSync(part.path, 'r');
    const patch = part.patch ?? ((bytes: Buffer) => bytes);
    const newOffsets = offsets.map((offset, i) => append(patch(readBytes(fd, offset, counts[i] ?? 0))));
    closeSync(fd);
    await tiff.close();
    const offsetType = bigTiff ? LONG8 : LONG;
    entries.push({ tag: tiled ? 324 : 273, type: offsetType, values: newOffsets }, { tag: tiled ? 325 : 279, type: offsetType, values: counts });
    directories.push(entries.sort((a, b) => a.tag - b.tag));
  }
  const ifdOffsets: number[] = [];
  const inline = bigTiff ? 8 : 4;
  const entrySize = bigTiff ? 20 : 12;
  const headerSize = bigTiff ? 8 : 2;
  const nextSize = bigTiff ? 8 : 4;
  const ifdBuffers: Buffer[] = [];
  for (const entries of directories) {
    // out-of-line values go right after the directory, so the directory's own position must be known first
    const ifdAt = position + ifdBuffers.reduce((sum, b) => sum + b.length, 0);
    ifdOffsets.push(ifdAt);
    const fixedSize = headerSize + entries.length * entrySize + nextSize;
    const table = Buffer.alloc(fixedSize);
    const extra: Buffer[] = [];
    let extraAt = ifdAt + fixedSize;
    if (bigTiff) table.writeBigUInt64LE(BigInt(entries.length), 0);
    else table.writeUInt16LE(entries.length, 0);
    entries.forEach((entry, i) => {
      const at = headerSize + i * entrySize;
      const size = TYPE_SIZE[entry.type] ?? 1;
      const count = entry.type === RATIONAL ? entry.values.length / 2 : entry.values.length;
      const data = Buffer.alloc(Math.max(inline, count * size));
      const per = entry.type === RATIONAL ? 4 : size;
      entry.values.forEach((v, k) => {
        if (per === 1) data.writeUInt8(v, k);
        else if (per === 2) data.writeUInt16LE(v, k * 2);
        else if (per === 4) data.writeUInt32LE(v, k * 4);
        else data.writeBigUInt64LE(BigInt(v), k * 8);
      });
      table.writeUInt16LE(entry.tag, at);
      table.writeUInt16LE(entry.type, at + 2);
      if (bigTiff) table.writeBigUInt64LE(BigInt(count), at + 4);
      else table.writeUInt32LE(count, at + 4);
      const valueAt = at + (bigTiff ? 12 : 8);
      if (count * size <= inline) {
        data.copy(table, valueAt, 0, inline);
      } else {
        if (bigTiff) table.writeBigUInt64LE(BigInt(extraAt), valueAt);
        else table.writeUInt32LE(extraAt, valueAt);
        const padded = data.length % 2 ? Buffer.concat([data, Buffer.alloc(1)]) : data;
        extra.push(padded);
        extraAt += padded.length;
      }
    });
    ifdBuffers.push(Buffer.concat([table, ...extra]));
  }
  ifdBuffers.forEach((buffer, i) => {
    const next = ifdOffsets[i + 1] ?? 0;
    const at = headerSize + (directories[i]?.length ?? 0) * entrySize;
    if (bigTiff) buffer.writeBigUInt64LE(BigInt(next), at);
    else buffer.writeUInt32LE(next, at);
  });
  const header = Buffer.alloc(bigTiff ? 16 : 8);
  header.write('II', 0, 'latin1');
  if (bigTiff) {
    header.writeUInt16LE(43, 2);
    header.writeUInt16LE(8, 4);
    header.writeBigUInt64LE(BigInt(ifdOffsets[0] ?? 0), 8);
  } else {
    header.writeUInt16LE(42, 2);
    header.writeUInt32LE(ifdOffsets[0] ?? 0, 4);
  }
  writeFileSync(out, Buffer.concat([header, ...chunks, ...ifdBuffers]));
}
