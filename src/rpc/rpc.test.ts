import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { loopbackPair, nodePortChannel } from './channel.ts';
import type { Channel } from './channel.ts';
import { RpcClient, serveRpc } from './rpc.ts';
import { testHandlers } from './test-handlers.ts';
import type { TestHandlers } from './test-handlers.ts';

function suite(name: string, connect: () => { channel: Channel; stop: () => Promise<unknown> }) {
  describe(name, () => {
    const { channel, stop } = connect();
    const client = new RpcClient<TestHandlers>(channel);
    afterAll(() => stop());

    it('returns typed results and moves the result buffers', async () => {
      const values = Float64Array.of(1, 2.5, -3);
      const doubled = await client.call('double', { values });
      expect(Array.from(doubled)).toEqual([2, 5, -6]);
      expect(values.length).toBe(3); // arguments are copied unless transferred
    });

    it('moves argument buffers the caller names', async () => {
      const bytes = new Uint8Array(1 << 20).fill(3);
      await expect(client.call('length', { bytes }, { transfer: [bytes.buffer] })).resolves.toBe(1 << 20);
      expect(bytes.byteLength).toBe(0);
    });

    it('rejects with the handler error code and message', async () => {
      await expect(client.call('fail', { code: 'bad-argument' })).rejects.toMatchObject({
        name: 'RpcError',
        code: 'bad-argument',
        message: 'fail: failed on purpose with bad-argument',
      });
      await expect((client as unknown as RpcClient<{ nope: (args: object) => null }>).call('nope', {})).rejects.toMatchObject({ code: 'unknown-method' });
    });

    it('streams progress and cancels through the AbortSignal', async () => {
      const seen: number[] = [];
      await expect(client.call('count', { steps: 4 }, { onProgress: (p) => seen.push(p.done) })).resolves.toBe(4);
      expect(seen).toEqual([1, 2, 3, 4]);

      const controller = new AbortController();
      const progress: number[] = [];
      const running = client.call('count', { steps: 1000 }, {
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p.done);
          if (p.done === 3) controller.abort();
        },
      });
      await expect(running).rejects.toMatchObject({ name: 'AbortError' });
      // The handler saw the abort: after a while no more progress arrives and the client is idle again.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(progress.length).toBeLessThan(10);
      expect(client.inFlight).toBe(0);
      await expect(client.call('count', { steps: 1 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    });
  });
}

suite('RPC over an in-process loopback', () => {
  const [clientEnd, serverEnd] = loopbackPair();
  const stopServing = serveRpc(testHandlers, serverEnd);
  return { channel: clientEnd, stop: async () => stopServing() };
});

suite('RPC over worker_threads', () => {
  const worker = new Worker(new URL('./test-worker.ts', import.meta.url));
  return { channel: nodePortChannel(worker, 'rpc test worker'), stop: () => worker.terminate() };
});

describe('a worker that dies', () => {
  it('fails its pending calls with code worker', async () => {
    const worker = new Worker(new URL('./test-worker.ts', import.meta.url));
    const client = new RpcClient<TestHandlers>(nodePortChannel(worker, 'rpc test worker'));
    const running = client.call('count', { steps: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await worker.terminate();
    await expect(running).rejects.toMatchObject({ code: 'worker', message: expect.stringContaining('exited') });
  });
});
