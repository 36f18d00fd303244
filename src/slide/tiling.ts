// The tile grid over the tissue at a target resolution, and the pixels of one grid tile at the model's input size.
import type { RgbaRegion, Slide } from './slide.ts';
import type { TissueMask } from './tissue.ts';

export interface TilingOptions {
  /** µm per pixel of the tiles the model sees (0.5 ≈ 20x) */
  mpp?: number;
  /** tile edge in pixels at `mpp` (the model's input size) */
  size?: number;
  /** smallest tissue fraction a tile must cover to be kept */
  minTissue?: number;
  /** µm/px of level 0 when the slide does not state it (asked from the user) */
  mppOverride?: number;
}

export interface GridTile {
  /** top-left corner and edge in level-0 pixels */
  x: number;
  y: number;
  size0: number;
  tissue: number;
}

export interface TileGrid {
  mpp: number;
  size: number;
  size0: number;
  columns: number;
  rows: number;
  tiles: GridTile[];
}

export const DEFAULT_TILING = { mpp: 0.5, size: 224, minTissue: 0.5 } as const;

/** Fraction of the level-0 square (x, y, size0) that the mask marks as tissue (mask pixels weighted by overlap). */
export function tissueFraction(mask: TissueMask, x: number, y: number, size0: number): number {
  const x0 = x / mask.scaleX;
  const x1 = (x + size0) / mask.scaleX;
  const y0 = y / mask.scaleY;
  const y1 = (y + size0) / mask.scaleY;
  let covered = 0;
  let area = 0;
  for (let my = Math.floor(y0); my < Math.min(mask.height, Math.ceil(y1)); my++) {
    const h = Math.min(my + 1, y1) - Math.max(my, y0);
    for (let mx = Math.floor(x0); mx < Math.min(mask.width, Math.ceil(x1)); mx++) {
      const w = Math.min(mx + 1, x1) - Math.max(mx, x0);
      area += w * h;
      covered += (mask.data[my * mask.width + mx] ?? 0) * w * h;
    }
  }
  return area > 0 ? covered / area : 0;
}

/** The grid of whole tiles over level 0, keeping those with at least `minTissue` tissue. */
export function tileGrid(slide: Slide, mask: TissueMask, options: TilingOptions = {}): TileGrid {
  const mpp = options.mpp ?? DEFAULT_TILING.mpp;
  const size = options.size ?? DEFAULT_TILING.size;
  const minTissue = options.minTissue ?? DEFAULT_TILING.minTissue;
  if (!(mpp > 0) || !Number.isInteger(size) || size < 1 || !(minTissue >= 0 && minTissue <= 1)) {
    throw new Error(`tiling needs mpp > 0, an integer size ≥ 1 and min tissue in 0..1 (got ${mpp}, ${size}, ${minTissue})`);
  }
  const size0 = Math.round(size * slide.downsampleForMpp(mpp, options.mppOverride));
  const columns = Math.floor(slide.info.width / size0);
  const rows = Math.floor(slide.info.height / size0);
  const tiles: GridTile[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < columns; col++) {
      const tissue = tissueFraction(mask, col * size0, row * size0, size0);
      if (tissue >= minTissue && tissue > 0) tiles.push({ x: col * size0, y: row * size0, size0, tissue });
    }
  }
  return { mpp, size, size0, columns, rows, tiles };
}

/** Bilinear resampling at pixel centres (a 2x2 average when halving). */
export function resizeRgba(src: RgbaRegion, width: number, height: number): RgbaRegion {
  if (src.width === width && src.height === height) return src;
  const out = new Uint8ClampedArray(width * height * 4);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(src.height - 1, Math.floor(fy));
    const y1 = Math.min(src.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(src.width - 1, Math.floor(fx));
      const x1 = Math.min(src.width - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < 4; c++) {
        const at = (yy: number, xx: number): number => src.rgba[(yy * src.width + xx) * 4 + c] ?? 0;
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        out[(y * width + x) * 4 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return { width, height, rgba: out };
}

/** The pixels of a grid tile at `size` x `size`, read from the level nearest above the needed resolution. */
export async function readGridTile(slide: Slide, tile: Pick<GridTile, 'x' | 'y' | 'size0'>, size: number): Promise<RgbaRegion> {
  const level = slide.levelForDownsample(tile.size0 / size);
  const downsample = slide.info.levels[level]?.downsample ?? 1;
  const edge = Math.max(1, Math.round(tile.size0 / downsample));
  return resizeRgba(await slide.readRegion(level, tile.x, tile.y, edge, edge), size, size);
}
