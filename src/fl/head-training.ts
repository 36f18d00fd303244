// Local head training as a worker's methods, declared once as a src/rpc handler table: the browser serves it from
// its head-training worker (src/app/lib/head-training.worker.ts), Node from a worker thread (head-training-worker.ts,
// the tests). A call streams one progress event per epoch and stops between mini-batches when the caller aborts;
// the reply is {code: 'AbortError'} naming where it stopped.
import * as tf from '@tensorflow/tfjs';
import type { LinearHead } from '../he/head.ts';
import type { HandlerTable, RpcContext } from '../rpc/rpc.ts';
import type { TokenSet } from './dataset.ts';
import { trainHead } from './head.ts';
import type { LocalTrainingOptions } from './head.ts';

export interface HeadTrainingProgress {
  /** Epochs finished so far. */
  epoch: number;
  epochs: number;
}

export interface TrainedHead {
  head: LinearHead;
  /** The tfjs backend it ran on (a hardware GPU in a browser that offers one). */
  backend: string;
  ms: number;
}

/** The table; `ready` settles once the worker's tfjs backend is chosen (training waits for it). */
export function headTrainingHandlers(ready: Promise<unknown> = Promise.resolve()) {
  return {
    /** trainHead(start, data, options), with a progress event per epoch and cancel between mini-batches. */
    trainHead: async ({ start, data, options }: { start: LinearHead; data: TokenSet; options: LocalTrainingOptions }, ctx: RpcContext<HeadTrainingProgress>): Promise<TrainedHead> => {
      await ready;
      const started = performance.now();
      const head = await trainHead(start, data, options, { signal: ctx.signal, onEpoch: (epoch) => ctx.progress({ epoch, epochs: options.epochs }) });
      return { head, backend: tf.getBackend(), ms: performance.now() - started };
    },
  } satisfies HandlerTable;
}

export type HeadTrainingHandlers = ReturnType<typeof headTrainingHandlers>;
