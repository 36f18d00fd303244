// Main-thread side of the ViT worker over src/rpc, typed by vitHandlers (worker-host.ts). The image pixel
// buffers are transferred to the worker (zero copy): after embed() the caller's rgba arrays are
// detached (length 0). Pass copies if you still need them. A failed call rejects with an RpcError carrying the
// worker's code ('bad-argument', 'no-model', 'worker' when the worker died, …) and its message as it was.

import { webWorkerChannel } from '../rpc/channel.ts';
import { RpcClient, RpcError } from '../rpc/rpc.ts';
import type { VitHandlers } from './worker-host.ts';
import type { InitOptions, InitResult, MemoryStats, PixelBatchResult, Progress, RgbaImage } from './worker-protocol.ts';

export class VitWorkerClient {
  readonly #worker: Worker;
  readonly #rpc: RpcClient<VitHandlers>;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.#rpc = new RpcClient<VitHandlers>(webWorkerChannel(worker, 'ViT worker'), { toError: (err) => new RpcError(err.code, err.message) });
  }

  /** Chooses the backend and loads the model folder inside the worker. */
  init(opts: InitOptions): Promise<InitResult> {
    return this.#rpc.call('init', { options: opts });
  }

  /**
   * [CLS] tokens, one per image, in order. `onProgress` fires after every batch; aborting `signal`
   * rejects at once with an AbortError and the worker stops before the next batch.
   */
  embed(images: RgbaImage[], onProgress?: (p: Progress) => void, signal?: AbortSignal): Promise<Float32Array[]> {
    const transfer = [...new Set(images.map((image) => image.rgba.buffer as ArrayBuffer))];
    return this.#rpc.call('embed', { images }, { onProgress, signal, transfer });
  }

  /**
   * Tokens of `count` images preprocessed elsewhere (count x 3 x size x size values, CHW, as preprocessBatch makes
   * them), in one forward pass. The pixels' buffer is transferred (detached here afterwards).
   */
  embedPixels(pixels: Float32Array, count: number, signal?: AbortSignal): Promise<PixelBatchResult> {
    return this.#rpc.call('embedPixels', { pixels, count }, { signal, transfer: [pixels.buffer as ArrayBuffer] });
  }

  /** tf.memory() inside the worker (tests check numTensors before and after extraction). */
  memory(): Promise<MemoryStats> {
    return this.#rpc.call('memory', undefined);
  }

  terminate(): void {
    this.#worker.terminate();
    this.#rpc.close('ViT worker terminated');
  }
}
