// Decoding tiles the user drops or the app bundles into RGBA pixels, with size caps and precise errors.
export const MAX_TILE_FILE_BYTES = 32 * 1024 * 1024;
export const MAX_TILE_PIXELS = 4096 * 4096;

export interface DecodedTile {
  name: string;
  sha256: string;
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function decodeTile(name: string, blob: Blob): Promise<DecodedTile> {
  if (blob.size > MAX_TILE_FILE_BYTES) throw new Error(`${name} is ${(blob.size / 1e6).toFixed(1)} MB; tiles are capped at ${MAX_TILE_FILE_BYTES / 1e6} MB`);
  const bytes = await blob.arrayBuffer();
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`${name} is not an image this browser can decode (PNG or JPEG expected)`);
  }
  try {
    if (bitmap.width * bitmap.height > MAX_TILE_PIXELS) throw new Error(`${name} is ${bitmap.width}×${bitmap.height} pixels; tiles are capped at 4096×4096`);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser cannot draw images off-screen');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { name, sha256: await sha256Hex(bytes), width: bitmap.width, height: bitmap.height, rgba: data };
  } finally {
    bitmap.close();
  }
}
