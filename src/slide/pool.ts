// Main-thread side of the slide decoders: a few workers that have each opened the same File, with every tile sent to
// the least busy one. Cancelling a call's signal rejects it at once and tells its worker, which then skips the decode
// if it has not started. Tissue detection always runs in the first worker, which keeps the mask between calls.
import type { Channel } from '../rpc/channel.ts';
import { type ArgsOf, RpcClient } from '../rpc/rpc.ts';
import type { RgbaRegion, SlideInfo } from './slide.ts';
import type { SlideHandlers, TilingRequest, TilingResult } from './worker-host.ts';

export interface SlideWorker {
  channel: Channel;
  terminate(): void;
}

/** Decoder workers for this machine: one core is left to the page, and more than four rarely pay off for JPEG tiles. */
export function slidePoolSize(hardwareConcurrency: number): number {
  return Math.max(2, Math.min(4, hardwareConcurrency - 1));
}

export class SlideWorkerPool {
  readonly size: number;
  readonly #workers: { worker: SlideWorker; rpc: RpcClient<SlideHandlers> }[];

  constructor(spawn: () => SlideWorker, size: number) {
    this.size = size;
    this.#workers = Array.from({ length: size }, () => {
      const worker = spawn();
      return { worker, rpc: new RpcClient<SlideHandlers>(worker.channel, { toError: (err) => Object.assign(new Error(err.message), { name: err.code }) }) };
    });
  }

  #leastBusy(): RpcClient<SlideHandlers> {
    let best = this.#workers[0];
    for (const w of this.#workers) if (best && w.rpc.inFlight < best.rpc.inFlight) best = w;
    if (!best) throw new Error('the slide pool has no workers');
    return best.rpc;
  }

  #first(): RpcClient<SlideHandlers> {
    const first = this.#workers[0];
    if (!first) throw new Error('the slide pool has no workers');
    return first.rpc;
  }

  /** Opens `file` in every worker (each reads only the directories); rejects with the reader's message if it is refused. */
  async open(file: Blob, name: string): Promise<SlideInfo> {
    const infos = await Promise.all(this.#workers.map(({ rpc }) => rpc.call('open', { file, name })));
    return infos[0] as SlideInfo;
  }

  fingerprint(): Promise<string> {
    return this.#first().call('fingerprint', undefined);
  }

  tile(args: ArgsOf<SlideHandlers, 'tile'>, signal?: AbortSignal): Promise<RgbaRegion> {
    return this.#leastBusy().call('tile', args, { signal });
  }

  associated(name: string, signal?: AbortSignal): Promise<RgbaRegion> {
    return this.#leastBusy().call('associated', { name }, { signal });
  }

  tiling(request: TilingRequest, signal?: AbortSignal): Promise<TilingResult> {
    return this.#first().call('tiling', request, { signal });
  }

  gridTile(args: ArgsOf<SlideHandlers, 'gridTile'>, signal?: AbortSignal): Promise<RgbaRegion> {
    return this.#leastBusy().call('gridTile', args, { signal });
  }

  terminate(): void {
    for (const { worker, rpc } of this.#workers) {
      worker.terminate();
      rpc.close('slide worker terminated');
    }
  }
}
