// src/fl's HeadTrainer port run in this page's head-training worker (src/rpc: a progress event per epoch, cancel by
// the run's signal), so fedavg-head trains off the main thread. It remembers the tfjs backend the worker trained on.
import type { HeadTrainer } from '../../fl/head.ts';
import { headTrainingWorker } from '../workers.ts';

export interface WorkerTrainer {
  trainHead: HeadTrainer;
  /** The backend of the last finished training (undefined before one). */
  backend(): string | undefined;
}

/** `onEpoch` hears every finished epoch of every training this trainer runs. */
export function workerTrainer(onEpoch?: (done: number, epochs: number) => void): WorkerTrainer {
  let backend: string | undefined;
  return {
    async trainHead(start, data, options, run) {
      const trained = await headTrainingWorker().call('trainHead', { start, data, options }, {
        signal: run?.signal,
        onProgress: (p) => {
          run?.onEpoch?.(p.epoch);
          onEpoch?.(p.epoch, p.epochs);
        },
      });
      backend = trained.backend;
      return trained.head;
    },
    backend: () => backend,
  };
}
