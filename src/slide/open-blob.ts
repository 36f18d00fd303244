// Opening a slide from a File or Blob in the browser (a module worker, see worker.ts): geotiff reads it through
// Blob.slice and FileReader, one byte range at a time, so a slide of several gigabytes is never read whole.
import { fromBlob } from 'geotiff';
import { SlideError } from './formats.ts';
import { HEAD_BYTES, type OpenedFile, openSlideSource, type SlideDecodeOptions } from './open.ts';

export async function openSlideBlob(blob: Blob, name: string, options?: SlideDecodeOptions): Promise<OpenedFile> {
  let head: Uint8Array;
  try {
    head = new Uint8Array(await blob.slice(0, HEAD_BYTES).arrayBuffer());
  } catch (error) {
    throw new SlideError(name, `cannot read the file: ${(error as Error).message}`, { cause: error });
  }
  return openSlideSource({ name, byteLength: blob.size, head, openTiff: () => fromBlob(blob) }, options);
}
