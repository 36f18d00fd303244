// Head training through the shared RPC (src/rpc), in-process over a loopback and in a worker thread: the result is
// trainHead's to the bit, one progress event arrives per epoch, and an abort stops training mid-epoch: the call
// rejects at once with an AbortError, the worker answers code AbortError naming the epoch and batch it stopped
// at, sends no more progress, and serves the next call.
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackPair, nodePortChannel } from '../rpc/channel.ts';
import { RpcClient, serveRpc } from '../rpc/rpc.ts';
import type { RpcMessage } from '../rpc/rpc.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { syntheticDataset } from './dataset.ts';
import { DEFAULT_LOCAL_TRAINING, trainHead, zeroHead } from './head.ts';
import { headTrainingHandlers } from './head-training.ts';
import type { HeadTrainingHandlers } from './head-training.ts';

const { train } = syntheticDataset({ seed: 12, trainPerClass: 200, testPerClass: 1, dim: 64 });
const start = zeroHead(train.classes, train.dim);
const options = { ...DEFAULT_LOCAL_TRAINING, epochs: 3, seed: 4 };
/** Many small batches per epoch, so that an abort lands inside one (600 tokens / 4 = 150 batches). */
const long = { ...DEFAULT_LOCAL_TRAINING, epochs: 200, batchSize: 4, seed: 4 };

beforeAll(async () => {
  await useNodeWasmBackend();
});

function suite(name: string, connect: () => { client: RpcClient<HeadTrainingHandlers>; received: RpcMessage[]; leakCheck: boolean; stop: () => Promise<unknown> }) {
  describe(name, () => {
    const { client, received, leakCheck, stop } = connect();
    afterAll(() => stop());

    it('trains exactly as trainHead does, with one progress event per epoch', async () => {
      const epochs: number[] = [];
      const trained = await client.call('trainHead', { start, data: train, options }, { onProgress: (p) => epochs.push(p.epoch) });
      const direct = await trainHead(start, train, options);
      expect(trained.backend).toBe('wasm');
      expect(Array.from(trained.head.weights)).toEqual(Array.from(direct.weights));
      expect(Array.from(trained.head.biases)).toEqual(Array.from(direct.biases));
      expect(epochs).toEqual([1, 2, 3]);
    });

    it('cancels mid-epoch with code AbortError and serves the next call', async () => {
      const tensors = tf.memory().numTensors;
      const controller = new AbortController();
      const epochs: number[] = [];
      const before = received.length;
      const running = client.call('trainHead', { start, data: train, options: long }, {
        signal: controller.signal,
        onProgress: (p) => {
          epochs.push(p.epoch);
          controller.abort();
        },
      });
      await expect(running).rejects.toMatchObject({ name: 'AbortError' });
      // The worker's own answer: it saw the cancel and stopped inside an epoch, not at its end.
      const reply = async (): Promise<RpcMessage & { kind: 'reply' }> => {
        for (let waited = 0; waited < 10_000; waited += 10) {
          const found = received.slice(before).find((m): m is RpcMessage & { kind: 'reply' } => m.kind === 'reply');
          if (found) return found;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error('the worker never answered the cancelled call');
      };
      const answer = await reply();
      expect('err' in answer && answer.err.code).toBe('AbortError');
      const where = /cancelled in epoch (\d+) of 200, before batch (\d+) of 150$/.exec('err' in answer ? answer.err.message : '');
      expect(where, 'err' in answer ? answer.err.message : 'no error').not.toBeNull();
      expect(Number(where?.[1])).toBeGreaterThanOrEqual(2);
      expect(Number(where?.[2])).toBeGreaterThan(1);
      const progressAfter = () => received.slice(before).filter((m) => m.kind === 'progress').length;
      const seen = progressAfter();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(progressAfter()).toBe(seen);
      expect(seen).toBeLessThan(200);
      if (leakCheck) expect(tf.memory().numTensors).toBe(tensors);
      const next = await client.call('trainHead', { start, data: train, options: { ...options, epochs: 1 } });
      expect(next.head.weights.length).toBe(train.classes * train.dim);
    });
  });
}

suite('head training over an in-process loopback', () => {
  const [clientEnd, serverEnd] = loopbackPair();
  const stopServing = serveRpc(headTrainingHandlers(), serverEnd);
  const received: RpcMessage[] = [];
  clientEnd.listen((m) => received.push(m));
  return { client: new RpcClient<HeadTrainingHandlers>(clientEnd), received, leakCheck: true, stop: async () => stopServing() };
});

suite('head training in a worker thread', () => {
  const worker = new Worker(new URL('./head-training-worker.ts', import.meta.url));
  const received: RpcMessage[] = [];
  worker.on('message', (m: RpcMessage) => received.push(m));
  return { client: new RpcClient<HeadTrainingHandlers>(nodePortChannel(worker, 'head-training worker')), received, leakCheck: false, stop: () => worker.terminate() };
});
