// A slide's identity without hashing gigabytes: SHA-256 over the file size, its first bytes (the TIFF header) and, per
// directory, the layout fields, the description and the tile (or strip) offset and byte-count tables. Two files with
// the same fingerprint have the same bytes at the same places for every tile, so stored tokens can be reused.
import { sha256Stream } from '../common/sha256.ts';
import type { Slide } from './slide.ts';

const FIELDS = ['ImageWidth', 'ImageLength', 'TileWidth', 'TileLength', 'Compression', 'PhotometricInterpretation', 'ImageDescription'];
const TABLES = ['TileOffsets', 'TileByteCounts', 'StripOffsets', 'StripByteCounts'];

export async function slideFingerprint(slide: Slide, head: Uint8Array): Promise<string> {
  const hash = sha256Stream();
  const encoder = new TextEncoder();
  const text = (value: string): void => hash.update(encoder.encode(`${value}\n`));
  text(`cipherpath-slide-fingerprint-v1 ${slide.info.byteLength}`);
  hash.update(head);
  for (const image of slide.images) {
    const directory = image.fileDirectory;
    for (const name of FIELDS) {
      if (directory.hasTag(name as never)) text(`${name}=${String(await directory.loadValue(name as never)).replace(/\0+$/, '')}`);
    }
    for (const name of TABLES) {
      if (!directory.hasTag(name as never)) continue;
      const values = Array.from((await directory.loadValue(name as never)) as ArrayLike<number | bigint>, Number);
      hash.update(new Uint8Array(Float64Array.from(values).buffer));
      text(name);
    }
  }
  return hash.digestHex();
}
