// Node-only helpers shared by scripts/ and tests: model folders on disk, and the tfjs wasm backend.

import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { chooseBackend } from './backend.ts';
import type { BackendChoice } from './backend.ts';
import type { RgbaImage } from './extract.ts';
import { parseSafetensorsHeader, safetensorsHeaderLength, type TensorEntry } from './safetensors.ts';
import { loadModelFolder } from './weights.ts';
import type { LoadedModel } from './weights.ts';

export async function readModelDir(dir: string): Promise<LoadedModel> {
  return loadModelFolder(async (name) => new Uint8Array(await readFile(join(dir, name))));
}

export async function writeModelDir(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
}

/** The tensors a safetensors file on disk declares, from its header alone: the data (gigabytes, maybe) is not read. */
export async function readSafetensorsHeader(path: string): Promise<Map<string, TensorEntry>> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const prefix = new Uint8Array(8);
    await file.read(prefix, 0, 8, 0);
    const header = new Uint8Array(safetensorsHeaderLength(prefix, size));
    await file.read(header, 0, header.byteLength, 8);
    return parseSafetensorsHeader(header, size).entries;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    await file.close();
  }
}

/** Node uses tfjs-backend-wasm (~28x faster than the pure-JS cpu backend on ViT-B/16). */
export async function useNodeWasmBackend(): Promise<BackendChoice> {
  return chooseBackend({ allow: ['wasm'] });
}

/** Decodes a PNG or JPEG file (by its signature, not its name) to 8-bit RGBA. */
export async function readImageFile(path: string): Promise<RgbaImage> {
  const bytes = await readFile(path);
  try {
    if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      const png = PNG.sync.read(bytes);
      return { rgba: new Uint8Array(png.data), width: png.width, height: png.height };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { rgba: image.data, width: image.width, height: image.height };
    }
  } catch (error) {
    throw new Error(`image ${path}: cannot decode: ${(error as Error).message}`, { cause: error });
  }
  throw new Error(`image ${path}: not a PNG or JPEG file`);
}
