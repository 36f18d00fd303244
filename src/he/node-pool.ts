// Coordinator-side pool of worker threads running SEAL, so homomorphic sums and ciphertext validation never block
// Fastify's event loop. Each thread keeps its own SEAL module and contexts (~0.3 s and ~100 MB to warm up), so the
// default is one thread per spare core. Requests go to the thread with the fewest calls in flight.
// A thread that dies (crash, OOM, kill) is respawned, every registration (inference keys, heads) is replayed to the
// new thread before it serves, and the calls that were in flight on the dead one are retried once there: the next
// request does not fail because a thread lost its registry.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HeError } from './errors.ts';
import { heErrorFromWire } from './handlers.ts';
import type { HeArgs, HeHandlers, HeadSource } from './handlers.ts';
import type { InferenceLayout } from './inference.ts';
import type { PresetId } from './params.ts';
import { nodePortChannel } from '../rpc/channel.ts';
import { RpcClient } from '../rpc/rpc.ts';
import type { ArgsOf, CallOptions, MethodOf, ProgressOf, ResultOf } from '../rpc/rpc.ts';

type Method = MethodOf<HeHandlers>;
type Registration = { method: 'registerInferenceKeys'; args: HeArgs<'registerInferenceKeys'> } | { method: 'registerHead'; args: HeArgs<'registerHead'> };

interface Thread {
  worker: Worker;
  rpc: RpcClient<HeHandlers>;
  /** Settles once the registrations are replayed (at once for the first threads). */
  ready: Promise<void>;
  dead: boolean;
}

export class HeNodePool {
  readonly #threads: Thread[] = [];
  /** Every live registration by id, replayed to respawned threads. */
  readonly #registrations = new Map<string, Registration>();
  #closing = false;
  #respawns = 0;
  #retries = 0;

  private constructor(size: number) {
    for (let i = 0; i < size; i++) this.#threads.push(this.#spawn());
  }

  static start(size = Math.max(1, availableParallelism() - 1)): HeNodePool {
    if (!Number.isInteger(size) || size < 1) throw new HeError('bad-argument', `pool size ${size} must be a positive integer`);
    return new HeNodePool(size);
  }

  /** Threads respawned since start (ops metric; tests kill threads). */
  get respawns(): number {
    return this.#respawns;
  }

  /** Calls retried on a replacement thread because theirs died under them. */
  get retries(): number {
    return this.#retries;
  }

  /** The worker threads' ids, so a test (or an operator) can see which thread is which. */
  get threadIds(): number[] {
    return this.#threads.map((t) => t.worker.threadId);
  }

  #spawn(replay: Registration[] = []): Thread {
    const worker = new Worker(new URL('./node-worker.ts', import.meta.url));
    const rpc = new RpcClient<HeHandlers>(nodePortChannel(worker, 'HE worker thread'), { toError: heErrorFromWire });
    // Replays run in order (a later registration under the same id replaces an earlier one).
    const ready = replay.reduce<Promise<void>>((prev, r) => prev.then(() => rpc.call(r.method, r.args as never).then(() => undefined)), Promise.resolve());
    const thread: Thread = { worker, rpc, ready, dead: false };
    ready.catch(() => undefined); // a failed replay surfaces on the calls that wait for it
    worker.on('exit', () => {
      thread.dead = true;
      const i = this.#threads.indexOf(thread);
      if (i >= 0 && !this.#closing) {
        this.#respawns++;
        this.#threads[i] = this.#spawn([...this.#registrations.values()]);
      }
    });
    return thread;
  }

  #pick(): Thread {
    return this.#threads.reduce((best, t) => (t.rpc.inFlight < best.rpc.inFlight ? t : best));
  }

  async #on<M extends Method>(thread: Thread, method: M, args: ArgsOf<HeHandlers, M>, opts?: CallOptions<ProgressOf<HeHandlers, M>>): Promise<ResultOf<HeHandlers, M>> {
    await thread.ready;
    return thread.rpc.call(method, args, opts);
  }

  /** Runs `method` on the least busy thread; if that thread dies meanwhile, once more on its replacement. */
  async #call<M extends Method>(method: M, args: ArgsOf<HeHandlers, M>, opts?: CallOptions<ProgressOf<HeHandlers, M>>): Promise<ResultOf<HeHandlers, M>> {
    if (this.#closing) throw new HeError('worker', `HE pool is closed (${method})`);
    const thread = this.#pick();
    try {
      return await this.#on(thread, method, args, opts);
    } catch (e) {
      if (!thread.dead || this.#closing) throw e;
      await new Promise((resolve) => setImmediate(resolve)); // let the exit handler put the replacement in
      const replacement = this.#threads.find((t) => !t.dead);
      if (!replacement) throw e;
      this.#retries++;
      return this.#on(replacement, method, args, opts);
    }
  }

  /** Sends `method` to every thread (registrations must exist wherever evaluateLinear may run). */
  async #broadcast<M extends Method>(method: M, args: ArgsOf<HeHandlers, M>): Promise<void> {
    if (this.#closing) throw new HeError('worker', `HE pool is closed (${method})`);
    // A thread that dies meanwhile is replaced by one that replays #registrations, which already holds this one.
    await Promise.all(this.#threads.map((t) => this.#on(t, method, args).catch((e: unknown) => {
      if (!t.dead) throw e;
    })));
  }

  async #register(id: string, registration: Registration): Promise<void> {
    this.#registrations.set(id, registration);
    try {
      await this.#broadcast(registration.method, registration.args as never);
    } catch (e) {
      if (this.#registrations.get(id) === registration) this.#registrations.delete(id);
      throw e;
    }
  }

  /** Index-wise homomorphic sum; every envelope is validated in the worker (see tokens.ts sumCiphertexts). */
  sumCiphertexts(presetId: PresetId, federationId: string, perClinic: Uint8Array[][], opts?: { signal?: AbortSignal }): Promise<Uint8Array[]> {
    return this.#call('sumCiphertexts', { presetId, federationId, perClinic }, opts);
  }

  /** The scale (log2) of `bytes` if it is a ciphertext envelope of this federation and preset that SEAL accepts; else HeError. */
  validateCiphertext(presetId: PresetId, federationId: string, bytes: Uint8Array): Promise<{ scaleBits: number }> {
    return this.#call('validateCiphertext', { presetId, federationId, ciphertext: bytes });
  }

  /** Loads the key holder's Galois (+ relinearization) keys once per thread under `keysId`. */
  registerInferenceKeys(presetId: PresetId, federationId: string, keysId: string, galoisKeys: Uint8Array, relinKeys?: Uint8Array): Promise<void> {
    const args = { presetId, federationId, keysId, galoisKeys, ...(relinKeys ? { relinKeys } : {}) };
    return this.#register(keysId, { method: 'registerInferenceKeys', args });
  }

  /** Encodes (clear) or loads (encrypted) a head once per thread under `headId`, for one layout. */
  registerHead(presetId: PresetId, federationId: string, headId: string, layout: InferenceLayout, source: HeadSource): Promise<void> {
    return this.#register(headId, { method: 'registerHead', args: { presetId, federationId, headId, layout, source } });
  }

  /** Encrypted logits: for each input group, one envelope per pass (see inference.ts). */
  evaluateLinear(
    presetId: PresetId,
    federationId: string,
    headId: string,
    keysId: string,
    groups: Uint8Array[][],
    opts?: { signal?: AbortSignal; onProgress?: (p: { done: number; total: number }) => void },
  ): Promise<Uint8Array[][]> {
    return this.#call('evaluateLinear', { presetId, federationId, headId, keysId, groups }, opts);
  }

  /** Frees a registered head or key set in every thread. */
  release(id: string): Promise<void> {
    this.#registrations.delete(id);
    return this.#broadcast('release', { id });
  }

  /** Ends thread `index` as a crash would (its replacement replays the registrations): ops recycle, tests kill. */
  async terminateThread(index: number): Promise<void> {
    const thread = this.#threads[index];
    if (!thread) throw new HeError('bad-argument', `the pool has no thread ${index}`);
    await thread.worker.terminate();
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
