// Decoding tiles the user drops or the app bundles into RGBA pixels, with size caps and precise errors. The format is
// sniffed from the bytes, not trusted from the name: PNG and JPEG go through the browser's decoder, TIFF through the
// baseline reader in tiff.ts.
import { formatBytes } from '../../common/format-bytes.ts';
import { sha256Hex } from '../../common/sha256.ts';
import { decodeBaselineTiff, isTiff } from './tiff.ts';

export const MAX_TILE_FILE_BYTES = 32 * 1024 * 1024;
export const MAX_TILE_PIXELS = 4096 * 4096;
export const THUMB_SIZE = 96;

export type TileFormat = 'png' | 'jpeg' | 'tiff';

export interface DecodedTile {
  name: string;
  sha256: string;
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export function sniffFormat(bytes: Uint8Array): TileFormat | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (isTiff(bytes)) return 'tiff';
  return null;
}

export function checkTileSize(name: string, size: number): void {
  if (size > MAX_TILE_FILE_BYTES) throw new Error(`${name} is ${formatBytes(size)}; tiles are capped at ${formatBytes(MAX_TILE_FILE_BYTES)}`);
}

/**
 * The pixels of the tile file `blob`; `bytes` are its bytes, or only its first 8 when it is not a TIFF (PNG and JPEG go
 * to the browser's decoder as the Blob, so the decode worker reads no more than that). Runs on the page or in a worker.
 */
export async function decodePixels(name: string, bytes: Uint8Array, blob: Blob): Promise<{ width: number; height: number; rgba: Uint8ClampedArray; format: TileFormat }> {
  const format = sniffFormat(bytes);
  if (!format) throw new Error(`${name} is not a PNG, JPEG or TIFF image; it was not added`);
  if (format === 'tiff') return { ...decodeBaselineTiff(bytes, name, MAX_TILE_PIXELS), format };
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`${name} looks like a ${format.toUpperCase()} file but this browser cannot decode it (damaged?); it was not added`);
  }
  try {
    if (bitmap.width * bitmap.height > MAX_TILE_PIXELS) throw new Error(`${name} is ${bitmap.width}×${bitmap.height} pixels; tiles are capped at 4096×4096`);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser cannot draw images off-screen');
    ctx.drawImage(bitmap, 0, 0);
    return { width: bitmap.width, height: bitmap.height, rgba: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, format };
  } finally {
    bitmap.close();
  }
}

export async function decodeTile(name: string, blob: Blob): Promise<DecodedTile & { format: TileFormat }> {
  checkTileSize(name, blob.size);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const decoded = await decodePixels(name, bytes, blob);
  return { name, sha256: sha256Hex(bytes), ...decoded };
}

/** A small PNG preview (browsers cannot show TIFF, and full tiles would be wasteful in a grid). */
export async function thumbnail(tile: { width: number; height: number; rgba: Uint8ClampedArray }): Promise<Blob> {
  const source = new OffscreenCanvas(tile.width, tile.height);
  const sctx = source.getContext('2d');
  if (!sctx) throw new Error('this browser cannot draw images off-screen');
  sctx.putImageData(new ImageData(new Uint8ClampedArray(tile.rgba), tile.width, tile.height), 0, 0);
  const scale = THUMB_SIZE / Math.max(tile.width, tile.height);
  const w = Math.max(1, Math.round(tile.width * Math.min(1, scale)));
  const h = Math.max(1, Math.round(tile.height * Math.min(1, scale)));
  const target = new OffscreenCanvas(w, h);
  const tctx = target.getContext('2d');
  if (!tctx) throw new Error('this browser cannot draw images off-screen');
  tctx.imageSmoothingQuality = 'high';
  tctx.drawImage(source, 0, 0, w, h);
  return target.convertToBlob({ type: 'image/png' });
}
