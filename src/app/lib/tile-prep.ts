// The first stage of tile extraction, run in its own module worker (tile-prep.worker.ts) so that the page's main
// thread never decodes or resizes a tile: a batch of tile files (PNG, JPEG, TIFF Blobs straight from the library) or
// already decoded pixels goes in, the model input (CHW float32, exactly as the ViT worker's own preprocessing makes
// it) comes out, transferred. Decoding here rather than in the ViT worker lets batch k+1 be decoded while batch k is
// in its forward pass: the ViT worker's thread is busy for the whole pass (wasm runs it synchronously).
import type { ImageProcessorConfig } from '../../vit/config.ts';
import { imageValues, preprocessBatch, type RgbaImage } from '../../vit/extract.ts';
import type { HandlerTable, RpcContext } from '../../rpc/rpc.ts';
import { checkTileSize, decodePixels, sniffFormat } from './files.ts';

/** A tile as the pipeline is given it: its file from the library, or pixels some other part of the app decoded. */
export type TileSource = { name: string } & ({ blob: Blob } | RgbaImage);

export interface PreparedBatch {
  pixels: Float32Array;
  count: number;
  /** Reading and decoding the files (0 for pixel sources). */
  decodeMs: number;
  /** Resizing and normalising to the model input. */
  preprocessMs: number;
}

async function pixelsOf(tile: TileSource): Promise<RgbaImage> {
  if (!('blob' in tile)) return tile;
  checkTileSize(tile.name, tile.blob.size);
  // Only a TIFF is decoded from its bytes here; copying a whole PNG or JPEG out of its Blob costs a quarter of its decode.
  const head = new Uint8Array(await tile.blob.slice(0, 8).arrayBuffer());
  const bytes = sniffFormat(head) === 'tiff' ? new Uint8Array(await tile.blob.arrayBuffer()) : head;
  return decodePixels(tile.name, bytes, tile.blob);
}

/**
 * One tile at a time, so a batch of large tiles holds one decoded tile, not all of them; a cancel is seen between
 * tiles.
 */
async function prepare(tiles: readonly TileSource[], processor: ImageProcessorConfig, signal: AbortSignal): Promise<PreparedBatch> {
  const values = imageValues(processor);
  const pixels = new Float32Array(tiles.length * values);
  let decodeMs = 0;
  let preprocessMs = 0;
  for (const [i, tile] of tiles.entries()) {
    signal.throwIfAborted();
    const decodeStart = performance.now();
    const image = await pixelsOf(tile);
    const preprocessStart = performance.now();
    pixels.set(preprocessBatch([image], processor, () => tile.name), i * values);
    decodeMs += preprocessStart - decodeStart;
    preprocessMs += performance.now() - preprocessStart;
  }
  return { pixels, count: tiles.length, decodeMs, preprocessMs };
}

export function tilePrepHandlers() {
  return {
    /** The model input for `tiles`, in order (count x 3 x size x size). */
    prepare: ({ tiles, processor }: { tiles: TileSource[]; processor: ImageProcessorConfig }, ctx: RpcContext) => prepare(tiles, processor, ctx.signal),
  } satisfies HandlerTable;
}

export type TilePrepHandlers = ReturnType<typeof tilePrepHandlers>;
