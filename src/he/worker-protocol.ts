// The one typed message union shared by the browser worker (worker.ts / client.ts) and the coordinator's
// worker_threads pool (node-worker.ts / node-pool.ts). Shape follows onnxruntime-web's proxy worker: every request
// carries an id and a type; every reply echoes both and holds either `ok` (the result) or `err` ({code, message}).
// Big buffers travel as transferables.
import { HeError } from './errors.ts';
import type { HeErrorCode } from './errors.ts';
import type { AggregationRound, WeightedMean } from './aggregate.ts';
import type { LinearHead } from './head.ts';
import type { InferenceLayout, InferenceMode } from './inference.ts';
import type { PresetId } from './params.ts';

/** A head as the coordinator may hold it: in clear, or encrypted by a key holder (encryptHeadForInference). */
export type HeadSource =
  | { encrypted: false; head: LinearHead }
  | { encrypted: true; weights: Uint8Array[][]; biases: Uint8Array[] };

export interface HeMethods {
  generateSecretKey: { args: { presetId: PresetId; federationId: string }; result: Uint8Array };
  encryptTokenBatch: {
    args: { presetId: PresetId; secretKey: Uint8Array; federationId: string; tokens: Float32Array[] };
    result: Uint8Array[];
  };
  decryptTokenBatch: {
    args: { presetId: PresetId; secretKey: Uint8Array; ciphertexts: Uint8Array[]; tokenCount: number; dim: number };
    result: Float64Array[];
  };
  sumCiphertexts: {
    args: { presetId: PresetId; federationId: string; perClinic: Uint8Array[][] };
    result: Uint8Array[];
  };
  validateCiphertext: { args: { presetId: PresetId; federationId: string; ciphertext: Uint8Array }; result: null };
  sealKeyFile: { args: { secretKey: Uint8Array; passphrase: string }; result: Uint8Array };
  openKeyFile: { args: { file: Uint8Array; passphrase: string }; result: Uint8Array };
  encryptWeightedContribution: {
    args: {
      presetId: PresetId;
      secretKey: Uint8Array;
      federationId: string;
      values: Float32Array | Float64Array;
      count: number;
      round: AggregationRound;
    };
    result: Uint8Array[];
  };
  decryptWeightedMean: {
    args: { presetId: PresetId; secretKey: Uint8Array; sums: Uint8Array[]; length: number };
    result: WeightedMean;
  };
  inferenceLayout: {
    args: { presetId: PresetId; mode: InferenceMode; classes: number; dim: number; tokensPerGroup?: number; masked?: boolean };
    result: InferenceLayout;
  };
  generateInferenceKeys: {
    args: { presetId: PresetId; secretKey: Uint8Array; federationId: string; layouts: InferenceLayout[]; relin: boolean };
    result: { galoisKeys: Uint8Array; relinKeys?: Uint8Array };
  };
  encryptInferenceInput: {
    args: {
      presetId: PresetId;
      secretKey: Uint8Array;
      federationId: string;
      tokens: (Float32Array | Float64Array)[];
      layout: InferenceLayout;
    };
    result: Uint8Array[][];
  };
  encryptHeadForInference: {
    args: { presetId: PresetId; secretKey: Uint8Array; federationId: string; head: LinearHead; layout: InferenceLayout };
    result: { weights: Uint8Array[][]; biases: Uint8Array[] };
  };
  decryptLogits: {
    args: { presetId: PresetId; secretKey: Uint8Array; results: Uint8Array[]; layout: InferenceLayout; tokenCount: number };
    result: Float64Array[];
  };
  /** Coordinator: load evaluation keys once under `keysId` (per worker realm). */
  registerInferenceKeys: {
    args: { presetId: PresetId; federationId: string; keysId: string; galoisKeys: Uint8Array; relinKeys?: Uint8Array };
    result: null;
  };
  /** Coordinator: encode/load a head once under `headId` (per worker realm). */
  registerHead: {
    args: { presetId: PresetId; federationId: string; headId: string; layout: InferenceLayout; source: HeadSource };
    result: null;
  };
  /** Coordinator: one result array (one envelope per pass) per input group. */
  evaluateLinear: {
    args: { presetId: PresetId; federationId: string; headId: string; keysId: string; groups: Uint8Array[][] };
    result: Uint8Array[][];
  };
  /** Frees a registered head or key set. */
  release: { args: { id: string }; result: null };
}

export type HeMethod = keyof HeMethods;
export type HeArgs<M extends HeMethod> = HeMethods[M]['args'];
export type HeResult<M extends HeMethod> = HeMethods[M]['result'];

export type HeRequest = { [M in HeMethod]: { id: number; type: M; args: HeArgs<M> } }[HeMethod];

export interface HeWireError {
  code: HeErrorCode;
  message: string;
}

export type HeReply = {
  [M in HeMethod]: { id: number; type: M; ok: HeResult<M> } | { id: number; type: M; err: HeWireError };
}[HeMethod];

/**
 * ArrayBuffers inside `value` that can be moved rather than copied: only buffers that a typed array covers
 * completely (a view into a larger buffer, e.g. a pooled Node Buffer, must be copied, not detached).
 */
export function transferablesOf(value: unknown, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength) {
      found.add(buffer);
    }
  } else if (Array.isArray(value)) {
    for (const item of value) transferablesOf(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) transferablesOf(item, found);
  }
  return [...found];
}

interface Pending {
  resolve: (value: never) => void;
  reject: (error: HeError) => void;
}

/** Client half of the protocol: ids, pending promises, reply routing. Transport-agnostic. */
export class HeRpc {
  #nextId = 1;
  #pending = new Map<number, Pending>();
  readonly #post: (request: HeRequest) => void;

  constructor(post: (request: HeRequest) => void) {
    this.#post = post;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  call<M extends HeMethod>(type: M, args: HeArgs<M>): Promise<HeResult<M>> {
    const id = this.#nextId++;
    return new Promise<HeResult<M>>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: never) => void, reject });
      try {
        this.#post({ id, type, args } as HeRequest);
      } catch (e) {
        this.#pending.delete(id);
        reject(new HeError('worker', `posting ${type} to the HE worker failed: ${String(e)}`, { cause: e }));
      }
    });
  }

  /** Routes a reply to its caller; replies with unknown ids are ignored (their caller was already failed). */
  receive(reply: HeReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if ('err' in reply) pending.reject(new HeError(reply.err.code, `${reply.type}: ${reply.err.message}`));
    else pending.resolve(reply.ok as never);
  }

  /** Fails every pending call (the worker died or was terminated). */
  failAll(reason: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new HeError('worker', reason));
  }
}
