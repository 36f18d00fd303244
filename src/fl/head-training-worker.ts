// worker_threads entry of the head-training table on tfjs-backend-wasm: what the browser's head-training worker
// does, in Node (head-training.test.ts drives it; a Node clinic could train off its event loop the same way).
import { parentPort } from 'node:worker_threads';
import { nodePortChannel } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { headTrainingHandlers } from './head-training.ts';

if (!parentPort) throw new Error('head-training-worker.ts must run inside a worker thread');
serveRpc(headTrainingHandlers(useNodeWasmBackend()), nodePortChannel(parentPort, 'head-training parent'));
