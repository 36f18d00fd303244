// Main-thread side of the ViT worker: promise-returning calls over postMessage. The image pixel
// buffers are transferred to the worker (zero copy): after embed() the caller's rgba arrays are
// detached (length 0). Pass copies if you still need them.

import { CANCELLED } from './worker-protocol.ts';
import type {
  InitOptions,
  InitResult,
  MemoryStats,
  Progress,
  RequestType,
  ResultOf,
  RgbaImage,
  VitRequest,
  VitWorkerMessage,
} from './worker-protocol.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: Progress) => void;
}

export class VitWorkerClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<VitWorkerMessage>) => this.#receive(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#rejectAll(new Error(`ViT worker error: ${event.message || 'failed to load or crashed'}`));
    };
  }

  /** Chooses the backend and loads the model folder inside the worker. */
  init(opts: InitOptions): Promise<InitResult> {
    return this.#request({ type: 'init', options: opts }, []);
  }

  /**
   * [CLS] tokens, one per image, in order. `onProgress` fires after every batch; aborting `signal`
   * stops before the next batch and rejects with an AbortError.
   */
  embed(images: RgbaImage[], onProgress?: (p: Progress) => void, signal?: AbortSignal): Promise<Float32Array[]> {
    if (signal?.aborted) return Promise.reject(abortError('embed aborted before it started'));
    const transfer = [...new Set(images.map((image) => image.rgba.buffer as ArrayBuffer))];
    const { id, promise } = this.#start<'embed'>({ type: 'embed', images }, transfer, onProgress);
    const onAbort = () => this.#post({ id: this.#nextId++, type: 'cancel', target: id }, []);
    signal?.addEventListener('abort', onAbort, { once: true });
    return promise.finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /** tf.memory() inside the worker (tests check numTensors before and after extraction). */
  memory(): Promise<MemoryStats> {
    return this.#request({ type: 'memory' }, []);
  }

  terminate(): void {
    this.#worker.terminate();
    this.#rejectAll(new Error('ViT worker terminated'));
  }

  #request<T extends RequestType>(body: DistributiveOmit<VitRequest, 'id'> & { type: T }, transfer: Transferable[]): Promise<ResultOf<T>> {
    return this.#start<T>(body, transfer).promise;
  }

  #start<T extends RequestType>(
    body: DistributiveOmit<VitRequest, 'id'>,
    transfer: Transferable[],
    onProgress?: (p: Progress) => void,
  ): { id: number; promise: Promise<ResultOf<T>> } {
    const id = this.#nextId++;
    const promise = new Promise<ResultOf<T>>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onProgress });
    });
    this.#post({ ...body, id } as VitRequest, transfer);
    return { id, promise };
  }

  #post(request: VitRequest, transfer: Transferable[]): void {
    this.#worker.postMessage(request, transfer);
  }

  #receive(message: VitWorkerMessage): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return; // e.g. the reply to a cancel request, which nobody awaits
    if (message.type === 'progress') {
      pending.onProgress?.({ done: message.done, total: message.total, etaMs: message.etaMs });
      return;
    }
    this.#pending.delete(message.id);
    if ('ok' in message) {
      pending.resolve(message.ok);
    } else {
      const error = message.err.name === CANCELLED ? abortError(message.err.message) : new Error(message.err.message);
      pending.reject(error);
    }
  }

  #rejectAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

function abortError(message: string): Error {
  return new DOMException(message, 'AbortError');
}
