// The weights of a model folder, decoded one tensor at a time straight from the safetensors bytes
// when VitModel.create asks for them, so loading holds the (fp16) file plus one float32 tensor, not a
// float32 copy of the whole model beside the copy the backend uploads (ViT-L: 1.2 GB saved).

import { decodeTensor } from './safetensors.ts';
import type { TensorEntry } from './safetensors.ts';

/** Recently decoded tensors kept: the per-head attention layout reads query, key and value once per head. */
const RECENT = 4;

export class LazyWeights implements ReadonlyMap<string, Float32Array> {
  readonly #file: Uint8Array;
  readonly #entries: ReadonlyMap<string, TensorEntry>;
  readonly #recent = new Map<string, Float32Array>();

  constructor(file: Uint8Array, entries: ReadonlyMap<string, TensorEntry>) {
    this.#file = file;
    this.#entries = entries;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Values in `name` without decoding it. */
  lengthOf(name: string): number | undefined {
    return this.#entries.get(name)?.shape.reduce((a, b) => a * b, 1);
  }

  get(name: string): Float32Array | undefined {
    const cached = this.#recent.get(name);
    if (cached) return cached;
    const entry = this.#entries.get(name);
    if (!entry) return undefined;
    const data = decodeTensor(this.#file, entry);
    this.#recent.set(name, data);
    if (this.#recent.size > RECENT) this.#recent.delete(this.#recent.keys().next().value as string);
    return data;
  }

  keys(): MapIterator<string> {
    return this.#entries.keys();
  }

  *values(): MapIterator<Float32Array> {
    for (const name of this.#entries.keys()) yield this.get(name) as Float32Array;
  }

  *entries(): MapIterator<[string, Float32Array]> {
    for (const name of this.#entries.keys()) yield [name, this.get(name) as Float32Array];
  }

  [Symbol.iterator](): MapIterator<[string, Float32Array]> {
    return this.entries();
  }

  forEach(callback: (value: Float32Array, key: string, map: ReadonlyMap<string, Float32Array>) => void): void {
    for (const [name, data] of this.entries()) callback(data, name, this);
  }
}
