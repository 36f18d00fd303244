// Node's way to use every core for the ViT (issue 17, point 4): tfjs-backend-wasm runs single-threaded under Node,
// so `npm run embed` and `npm run slide -- embed` spread batches over worker threads, each holding the model once
// and running the same extraction steps as the browser worker. Batches go to whichever thread is free, so the
// caller can read and decode the next tiles while earlier batches are in flight (decode overlaps the forward pass).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { nodePortChannel } from '../rpc/channel.ts';
import { RpcClient } from '../rpc/rpc.ts';
import type { ImageProcessorConfig, VitConfig } from './config.ts';
import type { RgbaImage } from './extract.ts';
import type { NodeEmbedHandlers } from './node-embed-handlers.ts';

interface Thread {
  worker: Worker;
  rpc: RpcClient<NodeEmbedHandlers>;
}

interface QueuedBatch {
  images: RgbaImage[];
  batchSize: number;
  resolve(tokens: Float32Array[]): void;
  reject(error: unknown): void;
}

/** Threads for a machine: one per core (the main thread only reads and decodes tiles, which the pool waits on rarely). */
export const defaultEmbedThreads = (): number => availableParallelism();

export class NodeEmbedPool {
  readonly #idle: Thread[] = [];
  readonly #threads: Thread[];
  readonly #queue: QueuedBatch[] = [];
  /** The model every thread loaded (its file hash, config.json and preprocessing). */
  readonly model: { modelSha256: string; config: VitConfig; processor: ImageProcessorConfig };

  private constructor(threads: Thread[], model: NodeEmbedPool['model']) {
    this.#threads = threads;
    this.#idle.push(...threads);
    this.model = model;
  }

  /** Starts `threads` workers and loads the model folder in each (their loads run in parallel). */
  static async start(modelDir: string, threads = defaultEmbedThreads()): Promise<NodeEmbedPool> {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`thread count ${threads} must be a positive integer`);
    const started: Thread[] = [];
    try {
      for (let i = 0; i < threads; i++) {
        const worker = new Worker(new URL('./node-embed-worker.ts', import.meta.url));
        started.push({ worker, rpc: new RpcClient<NodeEmbedHandlers>(nodePortChannel(worker, 'embedding thread')) });
      }
      const loads = await Promise.all(started.map((t) => t.rpc.call('load', { modelDir })));
      return new NodeEmbedPool(started, loads[0]!);
    } catch (error) {
      await Promise.all(started.map((t) => t.worker.terminate()));
      throw error;
    }
  }

  get threads(): number {
    return this.#threads.length;
  }

  /** Tokens of `images` in order, `batchSize` per forward pass, the batches spread over the free threads. */
  async embed(images: readonly RgbaImage[], batchSize: number): Promise<Float32Array[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    const batches: Promise<Float32Array[]>[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      const chunk = images.slice(start, start + batchSize);
      batches.push(
        new Promise<Float32Array[]>((resolve, reject) => {
          this.#queue.push({ images: chunk, batchSize, resolve, reject });
        }).catch((error: unknown) => {
          throw new Error(`images ${start}..${start + chunk.length - 1}: ${(error as Error).message}`, { cause: error });
        }),
      );
    }
    this.#dispatch();
    return (await Promise.all(batches)).flat();
  }

  /**
   * Tokens of `count` images that `read(i)` yields one at a time (tiles of a slide, say): a batch goes to the pool as
   * soon as it is read, and reading goes on while at most two batches per thread are waiting, so decoding overlaps
   * the forward passes without holding the whole slide's pixels.
   */
  async embedEach(count: number, read: (index: number) => Promise<RgbaImage>, batchSize: number): Promise<Float32Array[]> {
    const inFlight: Promise<Float32Array[]>[] = [];
    const done: Float32Array[][] = [];
    for (let start = 0; start < count; start += batchSize) {
      const batch: RgbaImage[] = [];
      for (let i = start; i < Math.min(count, start + batchSize); i++) batch.push(await read(i));
      const tokens = this.embed(batch, batchSize);
      tokens.catch(() => undefined); // a failure surfaces when this batch is awaited, not as an unhandled rejection
      inFlight.push(tokens);
      if (inFlight.length >= 2 * this.threads) done.push(await inFlight.shift()!);
    }
    for (const batch of inFlight) done.push(await batch);
    return done.flat();
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const thread = this.#idle.pop()!;
      const batch = this.#queue.shift()!;
      thread.rpc
        .call('embed', { images: batch.images, batchSize: batch.batchSize })
        .then(batch.resolve, batch.reject)
        .finally(() => {
          this.#idle.push(thread);
          this.#dispatch();
        });
    }
  }

  async close(): Promise<void> {
    for (const batch of this.#queue.splice(0)) batch.reject(new Error('the embedding pool was closed'));
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
