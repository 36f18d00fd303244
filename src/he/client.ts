// Main-thread proxy for the browser HE worker (worker.ts) over src/rpc. The methods are declared once, in
// handlers.ts; `call` is typed by that table, and the positional methods below are the facade the app calls.
// Arguments are copied into the worker (the caller keeps its arrays); results are transferred back without a copy.
// Every method takes an optional trailing `{signal}`: aborting it rejects with an AbortError and cancels the handler.
import type { AggregationRound, WeightedMean } from './aggregate.ts';
import type { LinearHead } from './head.ts';
import type { InferenceLayout, InferenceMode } from './inference.ts';
import type { PresetId } from './params.ts';
import { heErrorFromWire } from './handlers.ts';
import type { HeHandlers } from './handlers.ts';
import { webWorkerChannel } from '../rpc/channel.ts';
import { RpcClient } from '../rpc/rpc.ts';
import type { ArgsOf, CallOptions, MethodOf, ProgressOf, ResultOf } from '../rpc/rpc.ts';

export interface HeCallOptions {
  signal?: AbortSignal | undefined;
}

export class HeWorkerClient {
  readonly #worker: Worker;
  readonly #rpc: RpcClient<HeHandlers>;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.#rpc = new RpcClient<HeHandlers>(webWorkerChannel(worker, 'HE worker'), { toError: heErrorFromWire });
  }

  /** Any method of the handler table by name (progress and cancel included). */
  call<M extends MethodOf<HeHandlers>>(method: M, args: ArgsOf<HeHandlers, M>, opts?: CallOptions<ProgressOf<HeHandlers, M>>): Promise<ResultOf<HeHandlers, M>> {
    return this.#rpc.call(method, args, opts);
  }

  generateSecretKey(presetId: PresetId, federationId: string, opts?: HeCallOptions): Promise<Uint8Array> {
    return this.call('generateSecretKey', { presetId, federationId }, opts);
  }

  encryptTokenBatch(presetId: PresetId, secretKey: Uint8Array, federationId: string, tokens: Float32Array[], opts?: HeCallOptions): Promise<Uint8Array[]> {
    return this.call('encryptTokenBatch', { presetId, secretKey, federationId, tokens }, opts);
  }

  decryptTokenBatch(presetId: PresetId, secretKey: Uint8Array, ciphertexts: Uint8Array[], tokenCount: number, dim: number, opts?: HeCallOptions): Promise<Float64Array[]> {
    return this.call('decryptTokenBatch', { presetId, secretKey, ciphertexts, tokenCount, dim }, opts);
  }

  sealKeyFile(secretKey: Uint8Array, passphrase: string, opts?: HeCallOptions): Promise<Uint8Array> {
    return this.call('sealKeyFile', { secretKey, passphrase }, opts);
  }

  openKeyFile(file: Uint8Array, passphrase: string, opts?: HeCallOptions): Promise<Uint8Array> {
    return this.call('openKeyFile', { file, passphrase }, opts);
  }

  /** Enc(count * values || count) for one aggregation round (see aggregate.ts). */
  encryptWeightedContribution(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    values: Float32Array | Float64Array,
    count: number,
    round: AggregationRound,
    opts?: HeCallOptions,
  ): Promise<Uint8Array[]> {
    return this.call('encryptWeightedContribution', { presetId, secretKey, federationId, values, count, round }, opts);
  }

  decryptWeightedMean(presetId: PresetId, secretKey: Uint8Array, sums: Uint8Array[], length: number, opts?: HeCallOptions): Promise<WeightedMean> {
    return this.call('decryptWeightedMean', { presetId, secretKey, sums, length }, opts);
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

  generateInferenceKeys(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    layouts: InferenceLayout[],
    relin: boolean,
    opts?: HeCallOptions,
  ): Promise<{ galoisKeys: Uint8Array; relinKeys?: Uint8Array }> {
    return this.call('generateInferenceKeys', { presetId, secretKey, federationId, layouts, relin }, opts);
  }

  encryptInferenceInput(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    tokens: (Float32Array | Float64Array)[],
    layout: InferenceLayout,
    opts?: HeCallOptions,
  ): Promise<Uint8Array[][]> {
    return this.call('encryptInferenceInput', { presetId, secretKey, federationId, tokens, layout }, opts);
  }

  encryptHeadForInference(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    head: LinearHead,
    layout: InferenceLayout,
    opts?: HeCallOptions,
  ): Promise<{ weights: Uint8Array[][]; biases: Uint8Array[] }> {
    return this.call('encryptHeadForInference', { presetId, secretKey, federationId, head, layout }, opts);
  }

  decryptLogits(presetId: PresetId, secretKey: Uint8Array, results: Uint8Array[], layout: InferenceLayout, tokenCount: number, opts?: HeCallOptions): Promise<Float64Array[]> {
    return this.call('decryptLogits', { presetId, secretKey, results, layout, tokenCount }, opts);
  }

  terminate(): void {
    this.#worker.terminate();
    this.#rpc.close('HE worker was terminated');
  }
}
