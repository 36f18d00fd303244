// An OpenSeadragon tile source over the slide's own pyramid, fed by the decode workers: no URL is ever fetched (the
// tile "URL" is only a cache key), every OSD tile is one tile of a slide level, decoded by the same src/slide code as
// the Node reader and drawn pixel for pixel (canvas 2D data, no image decoding by the browser). OSD counts levels
// from the smallest, so its level i is slide level n-1-i, at the slide's own downsample (1, 4, 16 for Aperio).
import OpenSeadragon from 'openseadragon';
import type { RgbaRegion, SlideInfo, SlideLevel } from '../../slide/slide.ts';

export type ReadTile = (tile: { level: number; col: number; row: number }, signal: AbortSignal) => Promise<RgbaRegion>;

const SCHEME = 'cipherpath-slide:';
let opened = 0;

interface JobData {
  controller?: AbortController;
}

export class SlideTileSource extends OpenSeadragon.TileSource {
  readonly #levels: readonly SlideLevel[];
  readonly #readTile: ReadTile;
  readonly #key: string;

  constructor(info: SlideInfo, readTile: ReadTile) {
    const base = info.levels[0];
    super({ width: info.width, height: info.height, tileWidth: base?.tileWidth ?? 256, tileHeight: base?.tileHeight ?? 256, minLevel: 0, maxLevel: info.levels.length - 1, tileOverlap: 0 } as OpenSeadragon.TileSourceOptions);
    this.#levels = info.levels;
    this.#readTile = readTile;
    // a fresh key per opened slide, so OSD's tile cache never mixes two files
    this.#key = `${SCHEME}${++opened}`;
  }

  #slideLevel(level: number): { index: number; info: SlideLevel } {
    const index = this.#levels.length - 1 - level;
    const info = this.#levels[index];
    if (!info) throw new Error(`no slide level for viewer level ${level}`);
    return { index, info };
  }

  override getLevelScale(level: number): number {
    const info = this.#levels[this.#levels.length - 1 - level];
    return info ? 1 / info.downsample : 0;
  }

  override getTileWidth(level: number): number {
    return this.#slideLevel(level).info.tileWidth;
  }

  override getTileHeight(level: number): number {
    return this.#slideLevel(level).info.tileHeight;
  }

  override getNumTiles(level: number): OpenSeadragon.Point {
    const { info } = this.#slideLevel(level);
    return new OpenSeadragon.Point(Math.ceil(info.width / info.tileWidth), Math.ceil(info.height / info.tileHeight));
  }

  override getTileUrl(level: number, x: number, y: number): string {
    return `${this.#key}/${this.#slideLevel(level).index}/${x}/${y}`;
  }

  override hasTransparency(): boolean {
    return false;
  }

  override downloadTileStart(job: OpenSeadragon.ImageJob): void {
    const [level, col, row] = job.src.slice(this.#key.length + 1).split('/').map(Number);
    const controller = new AbortController();
    (job.userData as JobData).controller = controller;
    this.#readTile({ level: level ?? 0, col: col ?? 0, row: row ?? 0 }, controller.signal).then(
      (tile) => {
        if (controller.signal.aborted) return;
        const canvas = document.createElement('canvas');
        canvas.width = tile.width;
        canvas.height = tile.height;
        const context = canvas.getContext('2d');
        if (!context) {
          job.fail('this browser cannot draw on a canvas', null);
          return;
        }
        context.putImageData(new ImageData(tile.rgba as Uint8ClampedArray<ArrayBuffer>, tile.width, tile.height), 0, 0);
        job.finish(context, null, 'context2d');
      },
      (error: unknown) => {
        // OSD has already failed an aborted job itself
        if (!controller.signal.aborted) job.fail((error as Error).message, null);
      },
    );
  }

  override downloadTileAbort(job: OpenSeadragon.ImageJob): void {
    (job.userData as JobData).controller?.abort();
  }
}
