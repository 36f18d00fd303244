// Worker-thread entry for HeNodePool: runs SEAL off the coordinator's event loop. Loaded by Node 24 directly
// (type stripping), so it and everything it imports must stay erasable TypeScript.
import { parentPort } from 'node:worker_threads';
import { handleHeRequest } from './handlers.ts';
import type { HeRequest } from './worker-protocol.ts';

if (!parentPort) throw new Error('node-worker.ts must run inside a worker thread');
const port = parentPort;

port.on('message', (request: HeRequest) => {
  void handleHeRequest(request).then(({ reply, transfer }) => port.postMessage(reply, transfer));
});
