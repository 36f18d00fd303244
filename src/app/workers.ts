// One HE worker, one ViT worker and one tile decode worker per page, created lazily. The `new Worker(new URL(...))` form is what Vite
// recognises and bundles as a module worker.
import { HeWorkerClient } from '../he/client.ts';
import { VitWorkerClient } from '../vit/client.ts';
import { TilePrepClient } from './lib/tile-prep-client.ts';

let he: HeWorkerClient | undefined;
let vit: VitWorkerClient | undefined;
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

/** A fresh tile decode worker (the extraction bench starts its own beside its own ViT worker). */
export function newTilePrepWorker(): TilePrepClient {
  return new TilePrepClient(new Worker(new URL('./lib/tile-prep.worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-tile-decode' }));
}

/** The page's tile decode worker: the tile pipeline's decode and preprocessing stage. */
export function tilePrepWorker(): TilePrepClient {
  tilePrep ??= newTilePrepWorker();
  return tilePrep;
}
