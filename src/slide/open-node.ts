// Opening a slide from a path in Node (the CLI, the benchmark, the tests): geotiff reads it with positional file reads.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { fromFile } from 'geotiff';
import { SlideError } from './formats.ts';
import { HEAD_BYTES, type OpenedFile, openSlideSource } from './open.ts';

export type { OpenedFile } from './open.ts';

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
  return openSlideSource({ name, byteLength, head, openTiff: () => fromFile(path) }, tileCacheSize ? { tileCacheSize } : {});
}
