// Whole tiles as a level stores them, made into the level's pixels: edge tiles are stored full-size (padded past the
// level's edge) and clipped here; Aperio JPEG 2000 tiles are read as stored bytes and decoded by OpenJPEG.
import type { GeoTIFFImage } from 'geotiff';
import { type APERIO_J2K_RGB, type APERIO_J2K_YCBCR, decodeAperioJpeg2000 } from './jpeg2000.ts';
import type { SlideLevel } from './slide.ts';

/** A full tile's RGB clipped to the level (edge tiles are stored whole, padded past the level's edge). */
export function cropToLevel(full: Uint8Array, info: SlideLevel, col: number, row: number): Uint8Array {
  const tw = Math.min(info.tileWidth, info.width - col * info.tileWidth);
  const th = Math.min(info.tileHeight, info.height - row * info.tileHeight);
  if (tw === info.tileWidth && th === info.tileHeight) return full;
  const cropped = new Uint8Array(tw * th * 3);
  for (let y = 0; y < th; y++) cropped.set(full.subarray(y * info.tileWidth * 3, (y * info.tileWidth + tw) * 3), y * tw * 3);
  return cropped;
}

/** geotiff's decoder slot filled with "give me the stored bytes": JPEG 2000 tiles are decoded by OpenJPEG instead. */
const STORED_BYTES = { decode: (buffer: ArrayBufferLike): Promise<ArrayBufferLike> => Promise.resolve(buffer) };

/** RGB of one Aperio JPEG 2000 tile, clipped to the level (every tile, edge tiles included, is a full-size codestream). */
export async function readJpeg2000Tile(
  image: GeoTIFFImage,
  info: SlideLevel,
  col: number,
  row: number,
  compression: typeof APERIO_J2K_YCBCR | typeof APERIO_J2K_RGB,
  wasmUrl: string | undefined,
): Promise<Uint8Array> {
  const { data } = await image.getTileOrStrip(col, row, 0, STORED_BYTES as never);
  const tile = await decodeAperioJpeg2000(new Uint8Array(data), compression, wasmUrl);
  if (tile.width !== info.tileWidth || tile.height !== info.tileHeight) {
    throw new Error(`the JPEG 2000 codestream is ${tile.width}x${tile.height}, the level's tiles ${info.tileWidth}x${info.tileHeight}`);
  }
  return cropToLevel(tile.rgb, info, col, row);
}
