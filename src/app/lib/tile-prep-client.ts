// Main-thread side of the tile decode worker (tile-prep.ts). Blobs are passed by reference (nothing is read on this
// thread); pixel sources are transferred, so their rgba arrays are detached afterwards; the model input comes back
// transferred.
import { webWorkerChannel } from '../../rpc/channel.ts';
import { RpcClient } from '../../rpc/rpc.ts';
import type { ImageProcessorConfig } from '../../vit/config.ts';
import type { PreparedBatch, TilePrepHandlers, TileSource } from './tile-prep.ts';

export class TilePrepClient {
  readonly #worker: Worker;
  readonly #rpc: RpcClient<TilePrepHandlers>;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.#rpc = new RpcClient<TilePrepHandlers>(webWorkerChannel(worker, 'tile decode worker'), { toError: (err) => new Error(err.message) });
  }

  prepare(tiles: TileSource[], processor: ImageProcessorConfig, signal?: AbortSignal): Promise<PreparedBatch> {
    const transfer = [...new Set(tiles.flatMap((t) => ('rgba' in t ? [t.rgba.buffer as ArrayBuffer] : [])))];
    return this.#rpc.call('prepare', { tiles, processor }, { signal, transfer });
  }

  terminate(): void {
    this.#worker.terminate();
    this.#rpc.close('tile decode worker terminated');
  }
}
