// Worker-thread entry for NodeEmbedPool (Node 24 loads it directly: erasable TypeScript only).
import { parentPort } from 'node:worker_threads';
import { nodePortChannel } from '../rpc/channel.ts';
import { serveRpc, type HandlerTable } from '../rpc/rpc.ts';
import { nodeEmbedHandlers } from './node-embed-handlers.ts';

if (!parentPort) throw new Error('node-embed-worker.ts must run inside a worker thread');
serveRpc(nodeEmbedHandlers() satisfies HandlerTable, nodePortChannel(parentPort, 'embedding pool parent'));
