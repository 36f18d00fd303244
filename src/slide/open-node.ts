// Opening a slide from a path in Node (the CLI, the benchmark, the tests): geotiff reads it with positional file reads.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { fromFile } from 'geotiff';
import { SlideError, sniffSlide } from './formats.ts';
import { Slide } from './slide.ts';

/** The first bytes a fingerprint and the format sniffing need. */
export const HEAD_BYTES = 1024;

export interface OpenedFile {
  slide: Slide;
  head: Uint8Array;
}

export async function openSlideFile(path: string, tileCacheSize?: number): Promise<OpenedFile> {
  const name = basename(path);
  let head: Uint8Array;
  let byteLength: number;
  try {
    const handle = await open(path, 'r');
    try {
      byteLength = (await handle.stat()).size;
      const buffer = new Uint8Array(Math.min(HEAD_BYTES, byteLength));
      await handle.read(buffer, 0, buffer.length, 0);
      head = buffer;
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new SlideError(name, `cannot read the file: ${(error as Error).message}`, { cause: error });
  }
  sniffSlide(name, head);
  const tiff = await fromFile(path).catch((error: unknown) => {
    throw new SlideError(name, `not a readable TIFF: ${(error as Error).message}`, { cause: error });
  });
  return { slide: await Slide.open(tiff, { file: name, byteLength, ...(tileCacheSize ? { tileCacheSize } : {}) }), head };
}
