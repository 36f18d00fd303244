// Worker-thread entry for HeNodePool: runs SEAL off the coordinator's event loop. Loaded by Node 24 directly
// (type stripping), so it and everything it imports must stay erasable TypeScript.
import { parentPort } from 'node:worker_threads';
import { nodePortChannel } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { heHandlers, heWireError } from './handlers.ts';

if (!parentPort) throw new Error('node-worker.ts must run inside a worker thread');
serveRpc(heHandlers(), nodePortChannel(parentPort, 'HE pool parent'), { toWireError: heWireError });
