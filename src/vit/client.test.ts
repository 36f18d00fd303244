// VitWorkerClient against the real handler table (worker-host.ts) behind a Worker-shaped loopback: a refused call
// keeps the worker's {code, message}, as HE and head training do.
import { beforeAll, expect, it } from 'vitest';
import { loopbackPair } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { VitWorkerClient } from './client.ts';
import { useNodeWasmBackend } from './node-io.ts';
import { vitHandlers } from './worker-host.ts';

/** What VitWorkerClient uses of a Worker (postMessage, message events, terminate), served in-process. */
function loopbackWorker(): Worker {
  const [clientEnd, serverEnd] = loopbackPair();
  serveRpc(vitHandlers({ baseUrl: 'file:///' }), serverEnd);
  const worker = new EventTarget() as EventTarget & { postMessage: Worker['postMessage']; terminate(): void };
  clientEnd.listen((data) => worker.dispatchEvent(new MessageEvent('message', { data })));
  worker.postMessage = (message: unknown, transfer?: unknown) => clientEnd.post(message as never, (transfer ?? []) as Transferable[]);
  worker.terminate = () => undefined;
  return worker as unknown as Worker;
}

beforeAll(async () => {
  await useNodeWasmBackend();
});

it('rejects with the worker error code and its message', async () => {
  const client = new VitWorkerClient(loopbackWorker());
  await expect(client.init({})).rejects.toMatchObject({ name: 'RpcError', code: 'bad-argument', message: 'init: give modelUrl or modelFiles' });
  await expect(client.embed([{ rgba: new Uint8ClampedArray(16), width: 2, height: 2 }])).rejects.toMatchObject({
    name: 'RpcError',
    code: 'no-model',
    message: 'embed: the worker has no model; send init first',
  });
  client.terminate();
});
