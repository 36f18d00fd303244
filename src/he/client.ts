// Main-thread proxy for the browser HE worker (worker.ts). Arguments are copied into the worker (the caller keeps
// its arrays); results are transferred back without a copy.
import type { AggregationRound, WeightedMean } from './aggregate.ts';
import type { LinearHead } from './head.ts';
import type { InferenceLayout, InferenceMode } from './inference.ts';
import type { PresetId } from './params.ts';
import { HeRpc } from './worker-protocol.ts';
import type { HeReply } from './worker-protocol.ts';

export class HeWorkerClient {
  readonly #worker: Worker;
  readonly #rpc: HeRpc;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.#rpc = new HeRpc((request) => worker.postMessage(request));
    worker.addEventListener('message', (event: MessageEvent<HeReply>) => this.#rpc.receive(event.data));
    worker.addEventListener('error', (event: ErrorEvent) => {
      this.#rpc.failAll(`HE worker failed: ${event.message || 'script error'}`);
    });
    worker.addEventListener('messageerror', () => this.#rpc.failAll('HE worker sent an unreadable message'));
  }

  generateSecretKey(presetId: PresetId, federationId: string): Promise<Uint8Array> {
    return this.#rpc.call('generateSecretKey', { presetId, federationId });
  }

  encryptTokenBatch(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    tokens: Float32Array[],
  ): Promise<Uint8Array[]> {
    return this.#rpc.call('encryptTokenBatch', { presetId, secretKey, federationId, tokens });
  }

  decryptTokenBatch(
    presetId: PresetId,
    secretKey: Uint8Array,
    ciphertexts: Uint8Array[],
    tokenCount: number,
    dim: number,
  ): Promise<Float64Array[]> {
    return this.#rpc.call('decryptTokenBatch', { presetId, secretKey, ciphertexts, tokenCount, dim });
  }

  sealKeyFile(secretKey: Uint8Array, passphrase: string): Promise<Uint8Array> {
    return this.#rpc.call('sealKeyFile', { secretKey, passphrase });
  }

  openKeyFile(file: Uint8Array, passphrase: string): Promise<Uint8Array> {
    return this.#rpc.call('openKeyFile', { file, passphrase });
  }

  /** Enc(count * values || count) for one aggregation round (see aggregate.ts). */
  encryptWeightedContribution(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    values: Float32Array | Float64Array,
    count: number,
    round: AggregationRound,
  ): Promise<Uint8Array[]> {
    return this.#rpc.call('encryptWeightedContribution', { presetId, secretKey, federationId, values, count, round });
  }

  decryptWeightedMean(presetId: PresetId, secretKey: Uint8Array, sums: Uint8Array[], length: number): Promise<WeightedMean> {
    return this.#rpc.call('decryptWeightedMean', { presetId, secretKey, sums, length });
  }

  inferenceLayout(
    presetId: PresetId,
    mode: InferenceMode,
    classes: number,
    dim: number,
    opts: { tokensPerGroup?: number; masked?: boolean } = {},
  ): Promise<InferenceLayout> {
    return this.#rpc.call('inferenceLayout', { presetId, mode, classes, dim, ...opts });
  }

  generateInferenceKeys(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    layouts: InferenceLayout[],
    relin: boolean,
  ): Promise<{ galoisKeys: Uint8Array; relinKeys?: Uint8Array }> {
    return this.#rpc.call('generateInferenceKeys', { presetId, secretKey, federationId, layouts, relin });
  }

  encryptInferenceInput(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    tokens: (Float32Array | Float64Array)[],
    layout: InferenceLayout,
  ): Promise<Uint8Array[][]> {
    return this.#rpc.call('encryptInferenceInput', { presetId, secretKey, federationId, tokens, layout });
  }

  encryptHeadForInference(
    presetId: PresetId,
    secretKey: Uint8Array,
    federationId: string,
    head: LinearHead,
    layout: InferenceLayout,
  ): Promise<{ weights: Uint8Array[][]; biases: Uint8Array[] }> {
    return this.#rpc.call('encryptHeadForInference', { presetId, secretKey, federationId, head, layout });
  }

  decryptLogits(
    presetId: PresetId,
    secretKey: Uint8Array,
    results: Uint8Array[],
    layout: InferenceLayout,
    tokenCount: number,
  ): Promise<Float64Array[]> {
    return this.#rpc.call('decryptLogits', { presetId, secretKey, results, layout, tokenCount });
  }

  terminate(): void {
    this.#worker.terminate();
    this.#rpc.failAll('HE worker was terminated');
  }
}
