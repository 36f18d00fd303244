// One HE worker and one ViT worker per page, created lazily. The `new Worker(new URL(...))` form is what Vite
// recognises and bundles as a module worker.
import { HeWorkerClient } from '../he/client.ts';
import { VitWorkerClient } from '../vit/client.ts';

let he: HeWorkerClient | undefined;
let vit: VitWorkerClient | undefined;

export function heWorker(): HeWorkerClient {
  he ??= new HeWorkerClient(new Worker(new URL('../he/worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-he' }));
  return he;
}

/** The HE worker if this page started one (erasing needs none started for it). */
export function startedHeWorker(): HeWorkerClient | undefined {
  return he;
}

export function vitWorker(): VitWorkerClient {
  vit ??= new VitWorkerClient(new Worker(new URL('../vit/worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-vit' }));
  return vit;
}
