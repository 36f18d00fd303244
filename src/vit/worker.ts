// Module Web Worker entry: runs tfjs off the main thread. Create it with
//   new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })
// and talk to it through VitWorkerClient (client.ts).

import { TFJS_WASM_PATHS } from './wasm-paths.ts';
import { createWorkerHost } from './worker-host.ts';
import type { VitRequest, VitWorkerMessage } from './worker-protocol.ts';

const scope = self as unknown as {
  postMessage(message: VitWorkerMessage, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<VitRequest>) => void) | null;
  location: { href: string };
};

const handle = createWorkerHost({
  post: (message, transfer) => scope.postMessage(message, transfer),
  wasmPaths: TFJS_WASM_PATHS,
  baseUrl: scope.location.href,
});

scope.onmessage = (event) => handle(event.data);
