// The worker's message handling, separate from worker.ts (which only wires it to `self`) so that
// Node tests can drive it with the real tfjs wasm backend.

import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from './backend.ts';
import type { ImageProcessorConfig } from './config.ts';
import { VitModel } from './model.ts';
import { embedRgbaImages } from './extract.ts';
import { loadModelFolder } from './weights.ts';
import { CANCELLED } from './worker-protocol.ts';
import type { InitOptions, InitResult, RgbaImage, VitRequest, VitWorkerMessage } from './worker-protocol.ts';

const DEFAULT_BATCH_SIZE = 8;

export interface WorkerHostOptions {
  post: (message: VitWorkerMessage, transfer: Transferable[]) => void;
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

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url.href}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Returns the function to call with each incoming request. Requests other than cancel/memory run one at a time. */
export function createWorkerHost(options: WorkerHostOptions): (request: VitRequest) => void {
  let loaded: Loaded | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const cancelled = new Set<number>();

  const init = async (init: InitOptions): Promise<InitResult> => {
    loaded?.model.dispose();
    loaded = undefined;
    const batchSize = init.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`init: batchSize must be a positive integer, got ${batchSize}`);
    let fetchFile: (name: string) => Promise<Uint8Array>;
    if (init.modelFiles) {
      const files = init.modelFiles;
      fetchFile = async (name) => {
        const file = files[name];
        if (!file) throw new Error('not among the picked files');
        return file;
      };
    } else if (init.modelUrl !== undefined) {
      const folder = new URL(init.modelUrl.endsWith('/') ? init.modelUrl : `${init.modelUrl}/`, options.baseUrl);
      fetchFile = (name) => fetchBytes(new URL(name, folder));
    } else {
      throw new Error('init: give modelUrl or modelFiles');
    }
    const backend = await chooseBackend({ allow: init.allow, allowSoftwareGpu: init.allowSoftwareGpu, wasmPaths: options.wasmPaths, wasmThreads: init.wasmThreads });
    const { config, processor, weights, modelSha256 } = await loadModelFolder(fetchFile);
    loaded = { model: VitModel.create(config, weights), processor, batchSize };
    return { backend, config, modelSha256 };
  };

  const embed = async (id: number, images: RgbaImage[]): Promise<Float32Array[]> => {
    if (!loaded) throw new Error('embed: the worker has no model; send init first');
    const started = performance.now();
    if (cancelled.has(id)) throw namedError(CANCELLED, `embed cancelled after 0 of ${images.length} images`);
    return embedRgbaImages(loaded.model, loaded.processor, images, loaded.batchSize, async (done) => {
      const etaMs = ((performance.now() - started) / done) * (images.length - done);
      options.post({ id, type: 'progress', done, total: images.length, etaMs }, []);
      // A macrotask break, so that a cancel message queued meanwhile is seen before the next batch.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (cancelled.has(id) && done < images.length) {
        throw namedError(CANCELLED, `embed cancelled after ${done} of ${images.length} images`);
      }
    });
  };

  const fail = (id: number, type: VitRequest['type'], error: unknown) => {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    options.post({ id, type, err: { name, message } } as VitWorkerMessage, []);
  };

  return (request) => {
    const { id } = request;
    switch (request.type) {
      case 'cancel': {
        cancelled.add(request.target);
        options.post({ id, type: 'cancel', ok: { cancelled: true } }, []);
        return;
      }
      case 'memory': {
        const { numTensors, numBytes } = tf.memory();
        options.post({ id, type: 'memory', ok: { numTensors, numBytes, backend: tf.getBackend() } }, []);
        return;
      }
      case 'init': {
        queue = queue.then(() =>
          init(request.options).then(
            (ok) => options.post({ id, type: 'init', ok }, []),
            (error: unknown) => fail(id, 'init', error),
          ),
        );
        return;
      }
      case 'embed': {
        queue = queue.then(() =>
          embed(id, request.images).then(
            (ok) => options.post({ id, type: 'embed', ok }, ok.map((t) => t.buffer)),
            (error: unknown) => fail(id, 'embed', error),
          ).finally(() => cancelled.delete(id)),
        );
        return;
      }
      default: {
        const unknown = request as { id?: number; type?: unknown };
        fail(unknown.id ?? -1, 'init', new Error(`unknown request type ${JSON.stringify(unknown.type)}`));
      }
    }
  };
}
