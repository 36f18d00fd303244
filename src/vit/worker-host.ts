// The ViT worker's methods, declared once as a handler table for src/rpc (worker.ts serves it on `self`, client.ts
// derives its types from it), separate from worker.ts so that Node tests can drive it with the real tfjs wasm backend.

import type { ImageProcessorConfig } from './config.ts';
import type { VitModel } from './model.ts';
import { checkBatchSize, DEFAULT_BATCH_SIZE } from './batch-size.ts';
import { checkProcessorFits, embedRgbaImages, imageValues } from './extract.ts';
import { filesModelSource, loadInWorker, memoryStats, type ModelSource, urlModelSource } from './worker-load.ts';
import type { HandlerTable, RpcContext } from '../rpc/rpc.ts';
import { CANCELLED } from './worker-protocol.ts';
import type { InitOptions, InitResult, MemoryStats, PixelBatchResult, Progress, RgbaImage } from './worker-protocol.ts';

export interface WorkerHostOptions {
  /** Passed to chooseBackend (the worker gives it the URLs Vite emitted for the .wasm files). */
  wasmPaths?: string | Record<string, string>;
  /** Base URL that relative model URLs resolve against. */
  baseUrl: string;
}

interface Loaded {
  model: VitModel;
  processor: ImageProcessorConfig;
  batchSize: number;
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** An error whose `code` travels to the client (src/rpc sends {code, message}): what the caller did wrong. */
function codedError(code: 'bad-argument' | 'no-model', message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A positive whole number of bytes, or undefined. */
function byteCap(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw codedError('bad-argument', `init: ${name} must be a positive whole number of bytes, got ${value}`);
  return value;
}

/** The worker's handler table. init and embed run one at a time, in arrival order; memory answers at once. */
export function vitHandlers(options: WorkerHostOptions) {
  let loaded: Loaded | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  const init = async (init: InitOptions): Promise<InitResult> => {
    loaded?.model.dispose();
    loaded = undefined;
    if (init.batchSize !== undefined) {
      try {
        checkBatchSize(init.batchSize);
      } catch (error) {
        throw codedError('bad-argument', `init: ${(error as Error).message}`);
      }
    }
    byteCap('webgpuBufferLimitBytes', init.webgpuBufferLimitBytes);
    byteCap('memoryLimitBytes', init.memoryLimitBytes);
    let source: ModelSource;
    if (init.modelFiles) source = filesModelSource(init.modelFiles);
    else if (init.modelUrl !== undefined) source = urlModelSource(new URL(init.modelUrl.endsWith('/') ? init.modelUrl : `${init.modelUrl}/`, options.baseUrl));
    else throw codedError('bad-argument', 'init: give modelUrl or modelFiles');
    const choose = { allow: init.allow, allowSoftwareGpu: init.allowSoftwareGpu, wasmPaths: options.wasmPaths, wasmThreads: init.wasmThreads };
    // Memory and GPU buffers are planned for the largest default batch until the backend (and so its default) is known.
    const planningBatch = init.batchSize ?? Math.max(...Object.values(DEFAULT_BATCH_SIZE));
    const { head, backend, model, load } = await loadInWorker(source, init, choose, planningBatch);
    try {
      checkProcessorFits(model, head.processor);
    } catch (error) {
      model.dispose();
      throw error;
    }
    const batchSize = init.batchSize ?? DEFAULT_BATCH_SIZE[backend.backend];
    loaded = { model, processor: head.processor, batchSize };
    return { backend, config: head.config, modelSha256: head.modelSha256, processor: head.processor, batchSize, load };
  };

  const embed = async (images: RgbaImage[], ctx: RpcContext<Progress>): Promise<Float32Array[]> => {
    if (!loaded) throw codedError('no-model', 'embed: the worker has no model; send init first');
    const started = performance.now();
    if (ctx.signal.aborted) throw namedError(CANCELLED, `embed cancelled after 0 of ${images.length} images`);
    return embedRgbaImages(loaded.model, loaded.processor, images, loaded.batchSize, async (done) => {
      const etaMs = ((performance.now() - started) / done) * (images.length - done);
      ctx.progress({ done, total: images.length, etaMs });
      // A macrotask break, so that a cancel message queued meanwhile is seen before the next batch.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (ctx.signal.aborted && done < images.length) {
        throw namedError(CANCELLED, `embed cancelled after ${done} of ${images.length} images`);
      }
    });
  };

  const embedPixels = async (pixels: Float32Array, count: number, signal: AbortSignal): Promise<PixelBatchResult> => {
    if (!loaded) throw codedError('no-model', 'embedPixels: the worker has no model; send init first');
    if (signal.aborted) throw namedError(CANCELLED, `embedPixels cancelled before its ${count} images`);
    const expected = count * imageValues(loaded.processor);
    if (!Number.isInteger(count) || count < 1 || pixels.length !== expected) {
      throw codedError('bad-argument', `embedPixels: ${pixels.length} values for ${count} images; expected ${count} x 3 x ${loaded.processor.size}² = ${expected}`);
    }
    const started = performance.now();
    const tokens = await loaded.model.embedBatch(pixels, count);
    return { tokens, forwardMs: performance.now() - started };
  };

  return {
    /** Chooses the backend and loads the model folder. */
    init: ({ options: initOptions }: { options: InitOptions }) => serial(() => init(initOptions)),
    /** [CLS] tokens, one per image, in order; a progress event after every batch; a cancel stops before the next. */
    embed: ({ images }: { images: RgbaImage[] }, ctx: RpcContext<Progress>) => serial(() => embed(images, ctx)),
    /** Tokens of one batch the caller preprocessed (count x 3 x size x size, CHW), with the forward pass's time. */
    embedPixels: ({ pixels, count }: { pixels: Float32Array; count: number }, ctx: RpcContext) => serial(() => embedPixels(pixels, count, ctx.signal)),
    /** tf.memory() inside the worker (tests check numTensors before and after extraction), the wasm heap or GPU allocation. */
    memory: (): MemoryStats => memoryStats(),
  } satisfies HandlerTable;
}

export type VitHandlers = ReturnType<typeof vitHandlers>;
