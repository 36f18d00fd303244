// A whole-slide image over geotiff: its levels, associated images, scale, and pixels by tile or by region, read from
// the file on demand (geotiff fetches byte ranges: Blob.slice in the browser, positional reads in Node), never whole.
// Colour follows the TIFF Photometric tag, as OpenSlide does: geotiff's JPEG decoder applies no colour transform of
// its own, and readRGB converts YCbCr, so Aperio RGB tiles (which do not mark RGB inside the JPEG) come out right.
import { GeoTIFFImage, getDecoder, type GeoTIFF, type Pool } from 'geotiff';
import { APERIO_J2K_RGB, APERIO_J2K_YCBCR } from './jpeg2000.ts';
import { cropToLevel, readJpeg2000Tile } from './level-tiles.ts';
import { rgbFromJpegYcbcr } from './ycbcr.ts';
import { checkCompression, checkNotNdpi, mppFromResolution, parseAperioDescription, positiveNumber, SlideError } from './formats.ts';

export interface SlideLevel {
  width: number;
  height: number;
  downsample: number;
  tileWidth: number;
  tileHeight: number;
}

export interface AssociatedImageInfo {
  name: string;
  width: number;
  height: number;
}

export interface SlideInfo {
  file: string;
  byteLength: number;
  vendor: 'aperio' | 'generic-tiff';
  width: number;
  height: number;
  /** µm per level-0 pixel; null when the file does not say (then the user must be asked, it is never guessed) */
  mpp: { x: number; y: number } | null;
  mppSource: 'aperio-description' | 'tiff-resolution' | null;
  objectivePower: number | null;
  levels: SlideLevel[];
  associated: AssociatedImageInfo[];
}

/** RGBA pixels, row-major. */
export interface RgbaRegion {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export interface SlideOpenOptions {
  file: string;
  byteLength: number;
  /** geotiff decoder pool (web workers) in the browser; Node decodes on the main thread */
  pool?: Pool;
  /** decoded tiles kept (least recently used dropped first); 96 tiles of 256 px RGB ≈ 19 MB */
  tileCacheSize?: number;
  /** where the bundler put OpenJPEG's `openjpegwasm_decode.wasm` (browser); Node finds it beside the module */
  jpeg2000WasmUrl?: string;
}

/**
 * How a level's tiles are decoded when not through geotiff's readRGB: YCbCr JPEG (converted as libjpeg does) or
 * Aperio JPEG 2000 (OpenJPEG, jpeg2000.ts).
 */
type TileCodec = { kind: 'jpeg-ycbcr'; subsampling: [number, number] } | { kind: 'jpeg2000'; compression: typeof APERIO_J2K_YCBCR | typeof APERIO_J2K_RGB } | null;


/** Thrown where a physical scale is needed and the slide has none: the caller asks the user for the µm/px. */
export class MissingMppError extends SlideError {
  constructor(file: string) {
    super(file, 'the slide does not state its resolution (µm per pixel); enter it (e.g. 0.25 for 40x, 0.5 for 20x)');
    this.name = 'MissingMppError';
  }
}

/** Thrown where a magnification is asked for and the slide does not state its objective power: the caller asks the user. */
export class MissingObjectivePowerError extends SlideError {
  constructor(file: string) {
    super(file, 'the slide does not state its objective power (the magnification of level 0); enter it (e.g. 40 or 20)');
    this.name = 'MissingObjectivePowerError';
  }
}

async function tag<T = unknown>(image: GeoTIFFImage, name: string): Promise<T | undefined> {
  const directory = image.fileDirectory;
  return directory.hasTag(name as never) ? ((await directory.loadValue(name as never)) as T) : undefined;
}

function rational(value: unknown): number | null {
  if (typeof value === 'number') return value;
  const pair = value as ArrayLike<number> | undefined;
  return pair && pair.length >= 2 && pair[1] ? (pair[0] ?? 0) / pair[1] : null;
}

export class Slide {
  readonly info: SlideInfo;
  /** the TIFF images behind the levels and associated images, for fingerprinting */
  readonly images: readonly GeoTIFFImage[];
  private readonly levelImages: GeoTIFFImage[];
  /** per level: how its tiles are decoded here, or null for geotiff's readRGB */
  private readonly tileCodecs: TileCodec[];
  private readonly associatedImages: Map<string, GeoTIFFImage>;
  private readonly pool: Pool | undefined;
  private readonly cache = new Map<string, Promise<Uint8Array>>();
  private readonly jpegDecoders = new Map<number, Promise<{ decode(buffer: ArrayBufferLike): Promise<ArrayBufferLike> }>>();
  private readonly cacheSize: number;
  private readonly jpeg2000WasmUrl: string | undefined;

  private constructor(
    info: SlideInfo,
    levelImages: GeoTIFFImage[],
    tileCodecs: TileCodec[],
    associated: Map<string, GeoTIFFImage>,
    images: GeoTIFFImage[],
    options: SlideOpenOptions,
  ) {
    this.info = info;
    this.levelImages = levelImages;
    this.tileCodecs = tileCodecs;
    this.associatedImages = associated;
    this.images = images;
    this.pool = options.pool;
    this.cacheSize = options.tileCacheSize ?? 96;
    this.jpeg2000WasmUrl = options.jpeg2000WasmUrl;
  }

  /** Reads the directories of `tiff` and works out the layout; throws a SlideError naming the file otherwise. */
  static async open(tiff: GeoTIFF, options: SlideOpenOptions): Promise<Slide> {
    const { file } = options;
    const images: GeoTIFFImage[] = [];
    try {
      const count = await tiff.getImageCount();
      for (let i = 0; i < count; i++) images.push(await tiff.getImage(i));
    } catch (error) {
      throw new SlideError(file, `cannot read the TIFF directories: ${(error as Error).message}`, { cause: error });
    }
    const first = images[0];
    if (!first) throw new SlideError(file, 'the TIFF has no images');
    checkNotNdpi(file, first.fileDirectory.hasTag(65420 as never), await tag<string>(first, 'Make'));
    const aperio = parseAperioDescription((await tag<string>(first, 'ImageDescription')) ?? '');
    const levels: GeoTIFFImage[] = [];
    const associated = new Map<string, GeoTIFFImage>();
    const all = [...images];
    for (const [index, image] of images.entries()) {
      const tiled = image.fileDirectory.hasTag('TileWidth' as never);
      const subfileType = (await tag<number>(image, 'NewSubfileType')) ?? 0;
      if (aperio) {
        if (tiled) levels.push(image);
        else if (index === 1) associated.set('thumbnail', image);
        else {
          const kind = parseAperioDescription((await tag<string>(image, 'ImageDescription')) ?? '')?.kind;
          if (kind === 'label' || kind === 'macro') associated.set(kind, image);
        }
      } else if (tiled && (levels.length === 0 || (subfileType & 1) === 1)) {
        levels.push(image);
      }
    }
    // OME-style pyramids keep their reduced levels in SubIFDs of level 0
    if (!aperio && levels.length === 1 && first.fileDirectory.hasTag('SubIFDs' as never)) {
      const offsets = Array.from((await tag<ArrayLike<number | bigint>>(first, 'SubIFDs')) ?? [], Number);
      for (const offset of offsets) {
        const sub = new GeoTIFFImage(await tiff.parser.parseFileDirectoryAt(offset), tiff.littleEndian, false, tiff.source);
        if (sub.fileDirectory.hasTag('TileWidth' as never)) levels.push(sub);
        all.push(sub);
      }
    }
    const base = levels[0];
    if (!base) throw new SlideError(file, 'no tiled image in the file: a slide needs tiled levels; convert it with `vips tiffsave <input> out.tif --tile --pyramid`');
    for (const image of levels) checkCompression(file, Number(await tag(image, 'Compression')) || 1);
    levels.sort((a, b) => b.getWidth() - a.getWidth());
    const width = base.getWidth();
    const height = base.getHeight();
    const levelInfo: SlideLevel[] = levels.map((image) => ({
      width: image.getWidth(),
      height: image.getHeight(),
      // OpenSlide's definition: the mean of the two axes' ratios
      downsample: (width / image.getWidth() + height / image.getHeight()) / 2,
      tileWidth: image.getTileWidth(),
      tileHeight: image.getTileHeight(),
    }));
    let mpp: SlideInfo['mpp'] = null;
    let mppSource: SlideInfo['mppSource'] = null;
    const aperioMpp = positiveNumber(aperio?.fields.get('MPP'));
    if (aperioMpp !== null) {
      mpp = { x: aperioMpp, y: aperioMpp };
      mppSource = 'aperio-description';
    } else {
      const unit = await tag<number>(base, 'ResolutionUnit');
      const x = mppFromResolution(rational(await tag(base, 'XResolution')), unit);
      const y = mppFromResolution(rational(await tag(base, 'YResolution')), unit);
      if (x !== null && y !== null) {
        mpp = { x, y };
        mppSource = 'tiff-resolution';
      }
    }
    const info: SlideInfo = {
      file,
      byteLength: options.byteLength,
      vendor: aperio ? 'aperio' : 'generic-tiff',
      width,
      height,
      mpp,
      mppSource,
      objectivePower: positiveNumber(aperio?.fields.get('AppMag')),
      levels: levelInfo,
      associated: [...associated].map(([name, image]) => ({ name, width: image.getWidth(), height: image.getHeight() })).sort((a, b) => a.name.localeCompare(b.name)),
    };
    const tileCodecs = await Promise.all(
      levels.map(async (image): Promise<TileCodec> => {
        const compression = Number(await tag(image, 'Compression'));
        if (compression === APERIO_J2K_YCBCR || compression === APERIO_J2K_RGB) return { kind: 'jpeg2000', compression };
        if (compression !== 7 || Number(await tag(image, 'PhotometricInterpretation')) !== 6) return null;
        const sub = Array.from((await tag<ArrayLike<number>>(image, 'YCbCrSubsampling')) ?? [2, 2]);
        return { kind: 'jpeg-ycbcr', subsampling: [sub[0] ?? 2, sub[1] ?? 2] };
      }),
    );
    return new Slide(info, levels, tileCodecs, associated, all, options);
  }

  private level(index: number): { image: GeoTIFFImage; info: SlideLevel } {
    const image = this.levelImages[index];
    const info = this.info.levels[index];
    if (!image || !info) throw new SlideError(this.info.file, `level ${index} does not exist (the slide has ${this.info.levels.length})`);
    return { image, info };
  }

  /** The largest level whose downsample does not exceed `downsample` (OpenSlide's best level for a downsample). */
  levelForDownsample(downsample: number): number {
    let best = 0;
    this.info.levels.forEach((level, i) => {
      if (level.downsample <= downsample * (1 + 1e-6)) best = i;
    });
    return best;
  }

  /** Level-0 pixels per requested pixel at `mpp` µm/px; throws MissingMppError when the slide has no scale. */
  downsampleForMpp(mpp: number, mppOverride?: number): number {
    const base = mppOverride ?? this.info.mpp?.x;
    if (base === undefined) throw new MissingMppError(this.info.file);
    return mpp / base;
  }

  /**
   * Level-0 pixels per requested pixel at `magnification` (20 for 20x): the objective power over it; throws
   * MissingObjectivePowerError when the slide has no objective power and none is given.
   */
  downsampleForMagnification(magnification: number, objectivePowerOverride?: number): number {
    if (!(magnification > 0)) throw new RangeError(`magnification must be positive, not ${magnification}`);
    const power = objectivePowerOverride ?? this.info.objectivePower;
    if (power === null) throw new MissingObjectivePowerError(this.info.file);
    return power / magnification;
  }

  /** The level to read `magnification` from: the best level for its downsample, as levelForDownsample chooses. */
  levelForMagnification(magnification: number, objectivePowerOverride?: number): number {
    return this.levelForDownsample(this.downsampleForMagnification(magnification, objectivePowerOverride));
  }

  /** RGB pixels of one tile (edge tiles are clipped to the level), decoded through the pool when there is one. */
  readTile(levelIndex: number, col: number, row: number): Promise<Uint8Array> {
    const key = `${levelIndex}/${col}/${row}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const { image, info } = this.level(levelIndex);
    const x0 = col * info.tileWidth;
    const y0 = row * info.tileHeight;
    const window = [x0, y0, Math.min(info.width, x0 + info.tileWidth), Math.min(info.height, y0 + info.tileHeight)];
    const pool = this.pool ? { pool: this.pool } : {};
    const codec = this.tileCodecs[levelIndex] ?? null;
    const decoded =
      codec?.kind === 'jpeg-ycbcr'
        ? this.decodeYcbcrJpegTile(levelIndex, image, info, col, row, codec.subsampling)
        : codec?.kind === 'jpeg2000'
          ? readJpeg2000Tile(image, info, col, row, codec.compression, this.jpeg2000WasmUrl)
          : image.readRGB({ window, interleave: true, ...pool });
    const request = decoded
      .then((pixels) => (pixels instanceof Uint8Array ? pixels : Uint8Array.from(pixels as unknown as ArrayLike<number>)))
      .catch((error: unknown) => {
        this.cache.delete(key);
        throw new SlideError(this.info.file, `cannot decode tile (${col}, ${row}) of level ${levelIndex}: ${(error as Error).message}`, { cause: error });
      });
    this.cache.set(key, request);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return request;
  }

  /** One tile as opaque RGBA, edge tiles clipped to the level: what the viewer draws, pixel for pixel. */
  async readTileRgba(levelIndex: number, col: number, row: number): Promise<RgbaRegion> {
    const { info } = this.level(levelIndex);
    const columns = Math.ceil(info.width / info.tileWidth);
    const rows = Math.ceil(info.height / info.tileHeight);
    if (!(Number.isInteger(col) && Number.isInteger(row) && col >= 0 && row >= 0 && col < columns && row < rows)) {
      throw new SlideError(this.info.file, `tile (${col}, ${row}) is outside level ${levelIndex} (${columns} x ${rows} tiles)`);
    }
    const width = Math.min(info.tileWidth, info.width - col * info.tileWidth);
    const height = Math.min(info.tileHeight, info.height - row * info.tileHeight);
    return rgbaFromRgb(await this.readTile(levelIndex, col, row), width, height);
  }

  // YCbCr JPEG tiles skip geotiff's readRasters, whose per-sample copy costs ~3x the decode itself: the decoder (a
  // worker of the pool in the browser) returns the whole tile's raw YCbCr, converted and cropped here.
  private async decodeYcbcrJpegTile(levelIndex: number, image: GeoTIFFImage, info: SlideLevel, col: number, row: number, subsampling: [number, number]): Promise<Uint8Array> {
    let decoder = this.jpegDecoders.get(levelIndex);
    if (!decoder) {
      decoder = (async () => {
        const directory = image.fileDirectory;
        const parameters = {
          tileWidth: info.tileWidth,
          tileHeight: info.tileHeight,
          planarConfiguration: (await directory.loadValue('PlanarConfiguration' as never)) as number,
          bitsPerSample: (await directory.loadValue('BitsPerSample' as never)) as number[],
          predictor: 1,
          JPEGTables: await directory.loadValue('JPEGTables' as never),
        };
        return this.pool ? this.pool.bindParameters(7, parameters as never) : getDecoder(7, parameters as never);
      })();
      this.jpegDecoders.set(levelIndex, decoder);
    }
    const { data } = await image.getTileOrStrip(col, row, 0, (await decoder) as never);
    return cropToLevel(rgbFromJpegYcbcr(new Uint8Array(data), info.tileWidth, info.tileHeight, ...subsampling), info, col, row);
  }

  /**
   * RGBA pixels of a `width` x `height` region of level `levelIndex` whose top-left corner is (x, y) in level-0 pixels,
   * as OpenSlide's read_region; outside the slide is transparent black.
   */
  async readRegion(levelIndex: number, x: number, y: number, width: number, height: number): Promise<RgbaRegion> {
    const { info } = this.level(levelIndex);
    if (!(width > 0 && height > 0 && width * height <= 64 * 2 ** 20)) {
      throw new SlideError(this.info.file, `region ${width}x${height} is empty or larger than 64 Mpx`);
    }
    const lx = Math.floor(x / info.downsample);
    const ly = Math.floor(y / info.downsample);
    const rgba = new Uint8ClampedArray(width * height * 4);
    const col0 = Math.max(0, Math.floor(lx / info.tileWidth));
    const row0 = Math.max(0, Math.floor(ly / info.tileHeight));
    const col1 = Math.min(Math.ceil(info.width / info.tileWidth), Math.ceil((lx + width) / info.tileWidth)) - 1;
    const row1 = Math.min(Math.ceil(info.height / info.tileHeight), Math.ceil((ly + height) / info.tileHeight)) - 1;
    const jobs: Promise<void>[] = [];
    for (let row = row0; row <= row1; row++) {
      for (let col = col0; col <= col1; col++) {
        jobs.push(
          this.readTile(levelIndex, col, row).then((rgb) => {
            const tx = col * info.tileWidth;
            const ty = row * info.tileHeight;
            const tw = Math.min(info.tileWidth, info.width - tx);
            const th = Math.min(info.tileHeight, info.height - ty);
            const fromX = Math.max(tx, lx);
            const toX = Math.min(tx + tw, lx + width);
            for (let py = Math.max(ty, ly); py < Math.min(ty + th, ly + height); py++) {
              let src = ((py - ty) * tw + (fromX - tx)) * 3;
              let dst = ((py - ly) * width + (fromX - lx)) * 4;
              for (let px = fromX; px < toX; px++, src += 3, dst += 4) {
                rgba[dst] = rgb[src] ?? 0;
                rgba[dst + 1] = rgb[src + 1] ?? 0;
                rgba[dst + 2] = rgb[src + 2] ?? 0;
                rgba[dst + 3] = 255;
              }
            }
          }),
        );
      }
    }
    await Promise.all(jobs);
    return { width, height, rgba };
  }

  /** The whole of an associated image (thumbnail, label, macro). Label and macro may show patient identifiers. */
  async readAssociated(name: string): Promise<RgbaRegion> {
    const image = this.associatedImages.get(name);
    if (!image) throw new SlideError(this.info.file, `no associated image "${name}" (it has: ${this.info.associated.map((a) => a.name).join(', ') || 'none'})`);
    const width = image.getWidth();
    const height = image.getHeight();
    const rgb = (await image.readRGB({ interleave: true, ...(this.pool ? { pool: this.pool } : {}) })) as unknown as ArrayLike<number>;
    return rgbaFromRgb(rgb, width, height);
  }
}

/** Opaque RGBA from interleaved RGB (a fresh buffer: the caller may transfer it). */
export function rgbaFromRgb(rgb: ArrayLike<number>, width: number, height: number): RgbaRegion {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[p * 4] = rgb[p * 3] ?? 0;
    rgba[p * 4 + 1] = rgb[p * 3 + 1] ?? 0;
    rgba[p * 4 + 2] = rgb[p * 3 + 2] ?? 0;
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}
