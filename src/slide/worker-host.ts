// The slide worker's methods, declared once as a handler table for src/rpc: worker.ts serves it in a module worker,
// pool.ts derives its client types from it, and Node tests drive it over a loopback channel. Each worker opens the
// same File itself (a File is cloned to a worker by reference, not copied), so every decode runs on the same src/slide
// code as the Node CLI, and the main thread never touches compressed bytes.
import type { HandlerTable, RpcContext } from '../rpc/rpc.ts';
import { slideFingerprint } from './fingerprint.ts';
import { SlideError } from './formats.ts';
import { openSlideBlob } from './open-blob.ts';
import type { SlideDecodeOptions } from './open.ts';
import type { OpenedFile } from './open.ts';
import type { RgbaRegion, SlideInfo } from './slide.ts';
import { type GridTile, readGridTile, type TileGrid, tileGrid, type TilingOptions } from './tiling.ts';
import { detectTissue, type TissueMask, type TissueOptions } from './tissue.ts';

export interface TilingRequest {
  tissue: Pick<TissueOptions, 'threshold' | 'downsample'>;
  /** null: the mask only (the grid needs a µm/px the slide may not state) */
  tiling: TilingOptions | null;
}

export interface TilingResult {
  mask: TissueMask;
  grid: TileGrid | null;
}

/** The worker's handler table. Tiles decode one at a time in arrival order, so a tile cancelled while queued costs nothing. */
export function slideHandlers(decode: SlideDecodeOptions = {}) {
  let opened: OpenedFile | undefined;
  let mask: { key: string; value: Promise<TissueMask> } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> => {
    const run = queue.then(() => {
      signal.throwIfAborted();
      return work();
    });
    queue = run.catch(() => undefined);
    return run;
  };
  const current = (): OpenedFile => {
    if (!opened) throw new SlideError('slide worker', 'no slide is open');
    return opened;
  };

  return {
    /** Opens `file` here, replacing the slide this worker had; its properties as the Node reader reports them. */
    open: async ({ file, name }: { file: Blob; name: string }): Promise<SlideInfo> => {
      opened = undefined;
      mask = undefined;
      opened = await openSlideBlob(file, name, decode);
      return opened.slide.info;
    },
    /** The slide's identity (src/slide/fingerprint.ts): reads the tile tables, never the tiles. */
    fingerprint: (): Promise<string> => slideFingerprint(current().slide, current().head),
    /** One tile of a level as RGBA, decoded here. */
    tile: ({ level, col, row }: { level: number; col: number; row: number }, ctx: RpcContext): Promise<RgbaRegion> =>
      serial(ctx.signal, () => current().slide.readTileRgba(level, col, row)),
    /** An associated image (label, macro, thumbnail); label and macro may show patient identifiers. */
    associated: ({ name }: { name: string }, ctx: RpcContext): Promise<RgbaRegion> => serial(ctx.signal, () => current().slide.readAssociated(name)),
    /** The tissue mask and the tile grid over it; the mask is kept while its threshold and level stay the same. */
    tiling: async ({ tissue, tiling }: TilingRequest, ctx: RpcContext): Promise<TilingResult> => {
      const { slide } = current();
      const key = JSON.stringify(tissue);
      if (mask?.key !== key) {
        const value = serial(ctx.signal, () => detectTissue(slide, tissue));
        mask = { key, value };
        value.catch(() => {
          if (mask?.value === value) mask = undefined;
        });
      }
      const computed = await mask.value;
      ctx.signal.throwIfAborted();
      // the kept mask must not be moved out of this worker with the reply
      return { mask: { ...computed, data: computed.data.slice() }, grid: tiling ? tileGrid(slide, computed, tiling) : null };
    },
    /** A grid tile's pixels at the model's input size (what extraction will feed the ViT). */
    gridTile: ({ tile, size }: { tile: Pick<GridTile, 'x' | 'y' | 'size0'>; size: number }, ctx: RpcContext): Promise<RgbaRegion> =>
      serial(ctx.signal, () => readGridTile(current().slide, tile, size)),
  } satisfies HandlerTable;
}

export type SlideHandlers = ReturnType<typeof slideHandlers>;
