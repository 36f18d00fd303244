// One HE worker, one ViT worker, one head-training worker, one tile decode worker and one pool of slide decoders per
// page, created lazily. The `new Worker(new URL(...))` form is what Vite recognises and bundles as a module worker.
import type { HeadTrainingHandlers } from '../fl/head-training.ts';
import { HeWorkerClient } from '../he/client.ts';
import { webWorkerChannel } from '../rpc/channel.ts';
import { RpcClient } from '../rpc/rpc.ts';
import { slidePoolSize, SlideWorkerPool } from '../slide/pool.ts';
import { VitWorkerClient } from '../vit/client.ts';
import { TilePrepClient } from './lib/tile-prep-client.ts';

let he: HeWorkerClient | undefined;
let vit: VitWorkerClient | undefined;
let headTraining: { worker: Worker; rpc: RpcClient<HeadTrainingHandlers> } | undefined;
let tilePrep: TilePrepClient | undefined;

export function heWorker(): HeWorkerClient {
  he ??= new HeWorkerClient(new Worker(new URL('../he/worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-he' }));
  return he;
}

/** The HE worker if this page started one (erasing needs none started for it). */
export function startedHeWorker(): HeWorkerClient | undefined {
  return he;
}

/** A fresh ViT worker (tfjs keeps one backend per worker, so a measurement on another backend needs its own). */
export function newVitWorker(name = 'cipherpath-vit'): VitWorkerClient {
  return new VitWorkerClient(new Worker(new URL('../vit/worker.ts', import.meta.url), { type: 'module', name }));
}

export function vitWorker(): VitWorkerClient {
  vit ??= newVitWorker();
  return vit;
}

/** src/fl's head-training table in its worker (lib/head-training.worker.ts); a worker that crashed is replaced at the next call. */
export function headTrainingWorker(): RpcClient<HeadTrainingHandlers> {
  if (!headTraining) {
    const worker = new Worker(new URL('./lib/head-training.worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-head-training' });
    const current = { worker, rpc: new RpcClient<HeadTrainingHandlers>(webWorkerChannel(worker, 'the head-training worker')) };
    // The RPC client fails the calls in flight itself; this only makes the next call start a fresh worker.
    worker.addEventListener('error', () => {
      if (headTraining === current) headTraining = undefined;
    });
    headTraining = current;
  }
  return headTraining.rpc;
}

let slides: SlideWorkerPool | undefined;

/** The slide decoders: a few module workers, each reading the open slide's File on its own. */
export function slidePool(): SlideWorkerPool {
  slides ??= new SlideWorkerPool(() => {
    const worker = new Worker(new URL('../slide/worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-slide' });
    return { channel: webWorkerChannel(worker, 'slide worker'), terminate: () => worker.terminate() };
  }, slidePoolSize(navigator.hardwareConcurrency || 2));
  return slides;
}

/** A fresh tile decode worker (the extraction bench starts its own beside its own ViT worker). */
export function newTilePrepWorker(): TilePrepClient {
  return new TilePrepClient(new Worker(new URL('./lib/tile-prep.worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-tile-decode' }));
}

/** The page's tile decode worker: the tile pipeline's decode and preprocessing stage. */
export function tilePrepWorker(): TilePrepClient {
  tilePrep ??= newTilePrepWorker();
  return tilePrep;
}
