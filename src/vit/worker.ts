// Module Web Worker entry: runs tfjs off the main thread. Create it with
//   new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })
// and talk to it through VitWorkerClient (client.ts).

import wasmPlain from '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { createWorkerHost } from './worker-host.ts';
import type { VitRequest, VitWorkerMessage } from './worker-protocol.ts';

const scope = self as unknown as {
  postMessage(message: VitWorkerMessage, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<VitRequest>) => void) | null;
  location: { href: string };
};

const handle = createWorkerHost({
  post: (message, transfer) => scope.postMessage(message, transfer),
  wasmPaths: {
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
  },
  baseUrl: scope.location.href,
});

scope.onmessage = (event) => handle(event.data);
