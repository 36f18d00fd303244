// Opening a slide from any random-access byte source (a path in Node, a File in the browser): the first bytes are
// sniffed, so what is not a TIFF is refused with a message naming its format, then geotiff reads the directories
// through the source, fetching only the byte ranges it needs.
import type { GeoTIFF } from 'geotiff';
import { SlideError, sniffSlide } from './formats.ts';
import { Slide, type SlideOpenOptions } from './slide.ts';

/** The first bytes a fingerprint and the format sniffing need. */
export const HEAD_BYTES = 1024;

export interface OpenedFile {
  slide: Slide;
  head: Uint8Array;
}

export interface SlideSource {
  /** the file's name, used in every message */
  name: string;
  byteLength: number;
  /** its first min(HEAD_BYTES, byteLength) bytes */
  head: Uint8Array;
  /** geotiff over the source (fromFile, fromBlob) */
  openTiff(): Promise<GeoTIFF>;
}

/** How the opened slide decodes: its tile cache and, in the browser, where OpenJPEG's wasm is served. */
export type SlideDecodeOptions = Pick<SlideOpenOptions, 'tileCacheSize' | 'jpeg2000WasmUrl'>;

export async function openSlideSource(source: SlideSource, options: SlideDecodeOptions = {}): Promise<OpenedFile> {
  const { name, byteLength, head } = source;
  sniffSlide(name, head);
  const tiff = await source.openTiff().catch((error: unknown) => {
    throw new SlideError(name, `not a readable TIFF: ${(error as Error).message}`, { cause: error });
  });
  return { slide: await Slide.open(tiff, { file: name, byteLength, ...options }), head };
}
