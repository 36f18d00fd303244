// Main-thread proxy for the browser HE worker (worker.ts) over src/rpc. The methods are declared once, in
// handlers.ts; `call` is typed by that table, and the positional methods below are the facade the app calls.
// Arguments are copied into the worker (the caller keeps its arrays) except loadKey's, which moves the key away from
// the caller; results are transferred back without a copy. Secret keys stay in the worker: methods take a KeyHandle.
// Every method takes an optional trailing `{signal}`: aborting it rejects with an AbortError and cancels the handler.
import type { AggregationRound, WeightedMean } from './aggregate.ts';
import type { LinearHead } from './head.ts';
import type { InferenceLayout, InferenceMode } from './inference.ts';
import type { KeyHandle, KeyInfo } from './key-slots.ts';
import type { PresetId } from './params.ts';
import { wipe } from '../common/wipe.ts';
import { heErrorFromWire } from './handlers.ts';
import type { HeHandlers } from './handlers.ts';
import { type Channel, webWorkerChannel } from '../rpc/channel.ts';
import { RpcClient } from '../rpc/rpc.ts';
import type { ArgsOf, CallOptions, MethodOf, ProgressOf, ResultOf } from '../rpc/rpc.ts';

export interface HeCallOptions {
  signal?: AbortSignal | undefined;
}

export class HeWorkerClient {
  readonly #terminate: () => void;
  readonly #rpc: RpcClient<HeHandlers>;

  /** A module worker running worker.ts, or (tests) any channel to heHandlers and how to end it. */
  constructor(worker: Worker | { channel: Channel; terminate(): void }) {
    const channel = 'channel' in worker ? worker.channel : webWorkerChannel(worker, 'HE worker');
    this.#terminate = () => worker.terminate();
    this.#rpc = new RpcClient<HeHandlers>(channel, { toError: heErrorFromWire });
  }

  /** Any method of the handler table by name (progress and cancel included). */
  call<M extends MethodOf<HeHandlers>>(method: M, args: ArgsOf<HeHandlers, M>, opts?: CallOptions<ProgressOf<HeHandlers, M>>): Promise<ResultOf<HeHandlers, M>> {
    return this.#rpc.call(method, args, opts);
  }

  /** A new secret key, made in the worker: only its handle and metadata come back. */
  generateKey(presetId: PresetId, federationId: string, opts?: HeCallOptions): Promise<KeyInfo> {
    return this.call('generateKey', { presetId, federationId }, opts);
  }

  /**
   * Moves a secret-key envelope into a worker slot: a copy is transferred (this realm keeps no reference to it) and
   * `envelope` itself is zero-filled at once, whatever the worker answers.
   */
  loadKey(envelope: Uint8Array, opts?: HeCallOptions): Promise<KeyInfo> {
    const moved = envelope.slice();
    wipe(envelope);
    return this.call('loadKey', { key: moved }, { ...opts, transfer: [moved.buffer] });
  }

  /** Zero-fills the slot in the worker; the handle is unknown from then on. */
  async dropKey(key: KeyHandle, opts?: HeCallOptions): Promise<void> {
    await this.call('dropKey', { key }, opts);
  }

  /** Zero-fills every key slot in the worker (erase). */
  async dropAllKeys(opts?: HeCallOptions): Promise<number> {
    return (await this.call('dropAllKeys', undefined, opts)).dropped;
  }

  sealKeyFile(key: KeyHandle, passphrase: string, opts?: HeCallOptions): Promise<Uint8Array> {
    return this.call('sealKeyFile', { key, passphrase }, opts);
  }

  openKeyFile(file: Uint8Array, passphrase: string, opts?: HeCallOptions): Promise<KeyInfo> {
    return this.call('openKeyFile', { file, passphrase }, opts);
  }

  /** AES-GCM of the keys (one envelope, or a bundle of several) under `aesKey`, done in the worker. */
  sealKeys(keys: KeyHandle[], aesKey: CryptoKey, iv: Uint8Array, additionalData: Uint8Array, opts?: HeCallOptions): Promise<Uint8Array> {
    return this.call('sealKeys', { keys, aesKey, iv, additionalData }, opts);
  }

  /** Opens sealKeys' output into new slots; null when the AES-GCM tag does not verify. */
  openSealedKeys(aesKey: CryptoKey, iv: Uint8Array, sealed: Uint8Array, additionalData: Uint8Array, opts?: HeCallOptions): Promise<KeyInfo[] | null> {
    return this.call('openSealedKeys', { aesKey, iv, sealed, additionalData }, opts);
  }

  inclusionMarkers(key: KeyHandle, round: number, clinicIds: readonly string[], opts?: HeCallOptions): Promise<Float64Array[]> {
    return this.call('inclusionMarkers', { key, round, clinicIds: [...clinicIds] }, opts);
  }

  encryptTokenBatch(key: KeyHandle, tokens: Float32Array[], opts?: HeCallOptions): Promise<Uint8Array[]> {
    return this.call('encryptTokenBatch', { key, tokens }, opts);
  }

  decryptTokenBatch(key: KeyHandle, ciphertexts: Uint8Array[], tokenCount: number, dim: number, opts?: HeCallOptions): Promise<Float64Array[]> {
    return this.call('decryptTokenBatch', { key, ciphertexts, tokenCount, dim }, opts);
  }

  /** Enc(count * values || count) for one aggregation round (see aggregate.ts). */
  encryptWeightedContribution(key: KeyHandle, values: Float32Array | Float64Array, count: number, round: AggregationRound, opts?: HeCallOptions): Promise<Uint8Array[]> {
    return this.call('encryptWeightedContribution', { key, values, count, round }, opts);
  }

  decryptWeightedMean(key: KeyHandle, sums: Uint8Array[], length: number, opts?: HeCallOptions): Promise<WeightedMean> {
    return this.call('decryptWeightedMean', { key, sums, length }, opts);
  }

  inferenceLayout(
    presetId: PresetId,
    mode: InferenceMode,
    classes: number,
    dim: number,
    layoutOpts: { tokensPerGroup?: number; masked?: boolean } = {},
    opts?: HeCallOptions,
  ): Promise<InferenceLayout> {
    return this.call('inferenceLayout', { presetId, mode, classes, dim, ...layoutOpts }, opts);
  }

  generateInferenceKeys(key: KeyHandle, layouts: InferenceLayout[], relin: boolean, opts?: HeCallOptions): Promise<{ galoisKeys: Uint8Array; relinKeys?: Uint8Array }> {
    return this.call('generateInferenceKeys', { key, layouts, relin }, opts);
  }

  encryptInferenceInput(key: KeyHandle, tokens: (Float32Array | Float64Array)[], layout: InferenceLayout, opts?: HeCallOptions): Promise<Uint8Array[][]> {
    return this.call('encryptInferenceInput', { key, tokens, layout }, opts);
  }

  encryptHeadForInference(key: KeyHandle, head: LinearHead, layout: InferenceLayout, opts?: HeCallOptions): Promise<{ weights: Uint8Array[][]; biases: Uint8Array[] }> {
    return this.call('encryptHeadForInference', { key, head, layout }, opts);
  }

  decryptLogits(key: KeyHandle, results: Uint8Array[], layout: InferenceLayout, tokenCount: number, opts?: HeCallOptions): Promise<Float64Array[]> {
    return this.call('decryptLogits', { key, results, layout, tokenCount }, opts);
  }

  terminate(): void {
    this.#terminate();
    this.#rpc.close('HE worker was terminated');
  }
}
