// model.safetensors read as a stream (a fetch body, or a picked File's Blob.stream()), never held whole: every chunk
// goes into an incremental sha256, the header is parsed from the first bytes, and each tensor is decoded and handed to
// the ParameterAssembler as soon as its own bytes are in, so the backend tensors are built while the file downloads
// and the loader holds about one tensor beyond them. The model is returned only after the whole file's size and
// sha256 match manifest.json; on a mismatch or any other failure every tensor built so far is disposed.

import { checkModelFileDigest, checkSafetensorsHeader, type ModelHead } from './weights.ts';
import { DeviceLimitError } from './buffer-plan.ts';
import { VitModel } from './model.ts';
import { ParameterAssembler, type QkvLayout } from './model-params.ts';
import { decodeOwnedTensor, parseSafetensorsHeader, safetensorsHeaderLength, type TensorEntry } from './safetensors.ts';
import { sha256Stream } from '../common/sha256.ts';

const FILE = 'model.safetensors';

export interface SafetensorsStreamHandlers {
  /** The header, before any tensor data is used; throwing a DeviceLimitError stops reading at once. */
  onHeader(entries: ReadonlyMap<string, TensorEntry>): void;
  onTensor(name: string, data: Float32Array): void;
}

export interface StreamStats {
  bytes: number;
  /** Most bytes the reader held at once besides what it handed on (the header, or one tensor's bytes). */
  peakBufferedBytes: number;
}

/**
 * Reads a safetensors file of `size` bytes from `stream`, hashing every byte, and hands each tensor on as soon as its
 * bytes are in. Resolves once the whole file was read and its sha256 equals `sha256`. A handler error other than
 * DeviceLimitError may come from a damaged file (a flipped byte in the header), so the rest is still read and hashed:
 * a checksum mismatch is then the error reported, with the handler's as context.
 */
export async function streamSafetensors(stream: ReadableStream<Uint8Array>, size: number, sha256: string, handlers: SafetensorsStreamHandlers): Promise<StreamStats> {
  const reader = stream.getReader();
  const hash = sha256Stream();
  let position = 0;
  let peakBufferedBytes = 0;
  const prefix = new Uint8Array(8);
  let header: Uint8Array | undefined;
  let dataStart = Infinity;
  let queue: [string, TensorEntry][] = [];
  let current: { name: string; entry: TensorEntry; bytes: Uint8Array } | undefined;
  let failure: unknown;

  /** Consumes `chunk`, which starts at file offset `at`. */
  const consume = (chunk: Uint8Array, at: number): void => {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const here = at + offset;
      if (here < 8) {
        const count = Math.min(8 - here, chunk.byteLength - offset);
        prefix.set(chunk.subarray(offset, offset + count), here);
        offset += count;
        if (here + count === 8) {
          header = new Uint8Array(safetensorsHeaderLength(prefix, size));
          dataStart = 8 + header.byteLength;
          peakBufferedBytes = Math.max(peakBufferedBytes, header.byteLength);
        }
        continue;
      }
      if (here < dataStart) {
        const head = header as Uint8Array;
        const count = Math.min(dataStart - here, chunk.byteLength - offset);
        head.set(chunk.subarray(offset, offset + count), here - 8);
        offset += count;
        if (here + count === dataStart) {
          const { entries } = parseSafetensorsHeader(head, size);
          handlers.onHeader(entries);
          queue = [...entries].sort((a, b) => a[1].begin - b[1].begin);
          header = undefined;
        }
        continue;
      }
      if (!current) {
        const next = queue.shift();
        if (!next) return; // bytes after the last tensor: hashed, not used
        const [name, entry] = next;
        if (here < entry.begin) {
          queue.unshift(next); // a gap before this tensor: skip to it
          offset += Math.min(entry.begin - here, chunk.byteLength - offset);
          continue;
        }
        current = { name, entry, bytes: new Uint8Array(entry.end - entry.begin) };
        peakBufferedBytes = Math.max(peakBufferedBytes, current.bytes.byteLength);
      }
      const filled = here - current.entry.begin;
      const count = Math.min(current.bytes.byteLength - filled, chunk.byteLength - offset);
      current.bytes.set(chunk.subarray(offset, offset + count), filled);
      offset += count;
      if (filled + count === current.bytes.byteLength) {
        const { name, entry, bytes } = current;
        current = undefined;
        handlers.onTensor(name, decodeOwnedTensor(bytes, entry));
      }
    }
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      const at = position;
      position += value.byteLength;
      if (position > size) throw new Error(`model folder: ${FILE} is longer than the ${size} bytes manifest.json says`);
      if (failure !== undefined) continue;
      try {
        consume(value, at);
      } catch (error) {
        if (error instanceof DeviceLimitError) throw error;
        failure = error;
      }
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    reader.releaseLock();
  }
  if (position !== size) throw new Error(`model folder: ${FILE} is ${position} bytes, manifest.json says ${size}`);
  const why = failure === undefined ? '' : ` (reading it also failed: ${(failure as Error).message})`;
  checkModelFileDigest(FILE, sha256, hash.digestHex(), why);
  if (failure !== undefined) throw failure;
  if (queue.length > 0 || current) throw new Error(`model folder: ${FILE} ends inside tensor "${current?.name ?? queue[0]?.[0]}"`);
  return { bytes: position, peakBufferedBytes };
}

export interface StreamModelOptions {
  qkvLayout: QkvLayout;
  /** Dense kernels above this many bytes are built as column blocks (a WebGPU buffer limit). */
  maxKernelBytes?: number;
  /** Images per forward pass at most. */
  maxBatch?: number;
  /** Runs once the header is read, before any tensor is built, with its parameter count and bytes per stored value; throw a DeviceLimitError to refuse the model. */
  beforeTensors?(parameters: number, storedBytes: number): void;
  /** Wraps an error a tensor's upload threw (a backend out of memory), naming the tensor; `built` tensors were built before it. */
  uploadError?(error: unknown, tensor: string, built: number): Error;
}

export interface StreamedModel {
  model: VitModel;
  stats: StreamStats & { peakPendingValues: number };
}

/** Builds the VitModel of a model folder (its verified small files in `head`) while `stream` delivers its model.safetensors. */
export async function streamVitModel(head: ModelHead, stream: ReadableStream<Uint8Array>, options: StreamModelOptions): Promise<StreamedModel> {
  const { config, manifest } = head;
  const file = manifest.files[FILE] as { sha256: string; bytes: number };
  const assembler = new ParameterAssembler(config, { qkvLayout: options.qkvLayout, maxKernelBytes: options.maxKernelBytes });
  let built = 0;
  try {
    const stats = await streamSafetensors(stream, file.bytes, file.sha256, {
      onHeader(entries) {
        checkSafetensorsHeader(config, entries, manifest.dtype);
        const parameters = [...entries.values()].reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1), 0);
        options.beforeTensors?.(parameters, manifest.dtype === 'F32' ? 4 : 2);
      },
      onTensor(name, data) {
        try {
          assembler.add(name, data);
          built++;
        } catch (error) {
          throw options.uploadError ? options.uploadError(error, name, built) : error;
        }
      },
    });
    const model = VitModel.fromParameters(config, assembler.finish(), options.maxBatch);
    return { model, stats: { ...stats, peakPendingValues: assembler.peakPendingValues } };
  } catch (error) {
    assembler.dispose();
    throw error;
  }
}

/** A stream over bytes already in memory, `chunkBytes` at a time (tests; files handed over as bytes). */
export function bytesStream(bytes: Uint8Array, chunkBytes = 1 << 20): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}
