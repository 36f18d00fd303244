// Browser module Web Worker hosting SEAL. Create it with
//   new Worker(new URL('./he/worker.ts', import.meta.url), { type: 'module' })
// and talk to it through HeWorkerClient. The wasm URL comes from a Vite `?url` import because node-seal's own
// `new URL(p, import.meta.url)` lookup is not rewritten by Vite (research/node-seal.md §7); the relative path is
// needed because node-seal's exports map blocks `node-seal/dist/...`.
import wasmUrl from '../../node_modules/node-seal/dist/seal_throws.wasm?url';
import { handleHeRequest } from './handlers.ts';
import type { HeReply, HeRequest } from './worker-protocol.ts';

interface WorkerScope {
  addEventListener(type: 'message', listener: (event: MessageEvent<HeRequest>) => void): void;
  postMessage(message: HeReply, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;

scope.addEventListener('message', (event) => {
  void handleHeRequest(event.data, { wasmUrl }).then(({ reply, transfer }) => scope.postMessage(reply, transfer));
});
