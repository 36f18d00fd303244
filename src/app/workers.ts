// One HE worker, one ViT worker and one pool of slide decoders per page, created lazily. The
// `new Worker(new URL(...))` form is what Vite recognises and bundles as a module worker.
import { HeWorkerClient } from '../he/client.ts';
import { webWorkerChannel } from '../rpc/channel.ts';
import { slidePoolSize, SlideWorkerPool } from '../slide/pool.ts';
import { VitWorkerClient } from '../vit/client.ts';

let he: HeWorkerClient | undefined;
let vit: VitWorkerClient | undefined;

export function heWorker(): HeWorkerClient {
  he ??= new HeWorkerClient(new Worker(new URL('../he/worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-he' }));
  return he;
}

export function vitWorker(): VitWorkerClient {
  vit ??= new VitWorkerClient(new Worker(new URL('../vit/worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-vit' }));
  return vit;
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
