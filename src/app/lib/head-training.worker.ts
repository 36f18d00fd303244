// Local training of the fedavg-head round, off the main thread: src/fl's trainHead (tfjs softmax regression with L2,
// seeded mini-batch order) on the clinic's training split, from the round's global head. The page stays responsive
// however many tiles the clinic has. tfjs runs on its pure-JS `cpu` backend here: a mini-batch is a 32x768x3 matMul,
// where GPU dispatch costs more than it saves, and the cpu kernels give the same bits on every clinic's hardware.
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_LOCAL_TRAINING, trainHead } from '../../fl/head.ts';
import { FedAvgHead } from '../../fl/strategies/fedavg-head.ts';
import type { HeadTrainingRequest, HeadTrainingResponse } from './fedavg.ts';

const ready = tf.setBackend('cpu');

self.onmessage = async (event: MessageEvent<HeadTrainingRequest>) => {
  const { id, start, train, epochs, seed, clinicCount } = event.data;
  const reply = (message: HeadTrainingResponse, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);
  try {
    if (!(await ready)) throw new Error('the tfjs cpu backend could not start');
    const training = { ...DEFAULT_LOCAL_TRAINING, epochs };
    const t0 = performance.now();
    const local = await trainHead(start, train, { ...training, seed });
    const bounds = new FedAvgHead({ training, seed }).roundBounds(clinicCount);
    const weights = Float64Array.from(local.weights);
    const biases = Float64Array.from(local.biases);
    reply({ id, weights, biases, bounds, backend: tf.getBackend(), ms: performance.now() - t0 }, [weights.buffer, biases.buffer]);
  } catch (e) {
    reply({ id, error: (e as Error).message });
  }
};
