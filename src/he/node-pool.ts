// Coordinator-side pool of worker threads running SEAL, so homomorphic sums and ciphertext validation never block
// Fastify's event loop. Each thread keeps its own SEAL module and contexts (~0.3 s and ~100 MB to warm up), so the
// default is one thread per spare core. Requests go to the thread with the fewest calls in flight.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HeError } from './errors.ts';
import type { InferenceLayout } from './inference.ts';
import type { PresetId } from './params.ts';
import { HeRpc } from './worker-protocol.ts';
import type { HeArgs, HeMethod, HeReply, HeResult, HeadSource } from './worker-protocol.ts';

interface Thread {
  worker: Worker;
  rpc: HeRpc;
}

export class HeNodePool {
  readonly #threads: Thread[] = [];
  #closing = false;

  private constructor(size: number) {
    for (let i = 0; i < size; i++) this.#threads.push(this.#spawn());
  }

  static start(size = Math.max(1, availableParallelism() - 1)): HeNodePool {
    if (!Number.isInteger(size) || size < 1) throw new HeError('bad-argument', `pool size ${size} must be a positive integer`);
    return new HeNodePool(size);
  }

  #spawn(): Thread {
    const worker = new Worker(new URL('./node-worker.ts', import.meta.url));
    const rpc = new HeRpc((request) => worker.postMessage(request));
    const thread = { worker, rpc };
    worker.on('message', (reply: HeReply) => rpc.receive(reply));
    worker.on('error', (e: Error) => rpc.failAll(`HE worker thread failed: ${e.message}`));
    worker.on('exit', (code) => {
      rpc.failAll(`HE worker thread exited with code ${code}`);
      const i = this.#threads.indexOf(thread);
      if (i >= 0 && !this.#closing) this.#threads[i] = this.#spawn();
    });
    return thread;
  }

  #call<M extends HeMethod>(type: M, args: HeArgs<M>): Promise<HeResult<M>> {
    if (this.#closing) return Promise.reject(new HeError('worker', `HE pool is closed (${type})`));
    const thread = this.#threads.reduce((best, t) => (t.rpc.inFlight < best.rpc.inFlight ? t : best));
    return thread.rpc.call(type, args);
  }

  /** Index-wise homomorphic sum; every envelope is validated in the worker (see tokens.ts sumCiphertexts). */
  sumCiphertexts(presetId: PresetId, federationId: string, perClinic: Uint8Array[][]): Promise<Uint8Array[]> {
    return this.#call('sumCiphertexts', { presetId, federationId, perClinic });
  }

  /** Resolves if `bytes` is a ciphertext envelope of this federation and preset that SEAL accepts; else HeError. */
  async validateCiphertext(presetId: PresetId, federationId: string, bytes: Uint8Array): Promise<void> {
    await this.#call('validateCiphertext', { presetId, federationId, ciphertext: bytes });
  }

  /** Sends `type` to every thread (registrations must exist wherever evaluateLinear may run). */
  async #broadcast<M extends HeMethod>(type: M, args: HeArgs<M>): Promise<void> {
    if (this.#closing) throw new HeError('worker', `HE pool is closed (${type})`);
    await Promise.all(this.#threads.map((t) => t.rpc.call(type, args)));
  }

  /** Loads the key holder's Galois (+ relinearization) keys once per thread under `keysId`. */
  registerInferenceKeys(
    presetId: PresetId,
    federationId: string,
    keysId: string,
    galoisKeys: Uint8Array,
    relinKeys?: Uint8Array,
  ): Promise<void> {
    return this.#broadcast('registerInferenceKeys', {
      presetId,
      federationId,
      keysId,
      galoisKeys,
      ...(relinKeys ? { relinKeys } : {}),
    });
  }

  /** Encodes (clear) or loads (encrypted) a head once per thread under `headId`, for one layout. */
  registerHead(
    presetId: PresetId,
    federationId: string,
    headId: string,
    layout: InferenceLayout,
    source: HeadSource,
  ): Promise<void> {
    return this.#broadcast('registerHead', { presetId, federationId, headId, layout, source });
  }

  /** Encrypted logits: for each input group, one envelope per pass (see inference.ts). */
  evaluateLinear(
    presetId: PresetId,
    federationId: string,
    headId: string,
    keysId: string,
    groups: Uint8Array[][],
  ): Promise<Uint8Array[][]> {
    return this.#call('evaluateLinear', { presetId, federationId, headId, keysId, groups });
  }

  /** Frees a registered head or key set in every thread. */
  release(id: string): Promise<void> {
    return this.#broadcast('release', { id });
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
