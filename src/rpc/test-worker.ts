// Worker-thread entry for rpc.test.ts: serves testHandlers on parentPort.
import { parentPort } from 'node:worker_threads';
import { nodePortChannel } from './channel.ts';
import { serveRpc } from './rpc.ts';
import { testHandlers } from './test-handlers.ts';

if (!parentPort) throw new Error('test-worker.ts must run inside a worker thread');
serveRpc(testHandlers, nodePortChannel(parentPort, 'rpc test parent'));
