// Local training of the fedavg-head round, off the main thread: src/fl's trainHead (tfjs softmax regression with L2,
// seeded mini-batch order) on the clinic's training split, from the round's global head. The page stays responsive
// however many tiles the clinic has. tfjs takes the same backend chain as the ViT (a hardware GPU when there is one,
// else wasm, else plain JS; software GPUs are skipped); training is deterministic for a seed on a given backend, and
// clinics may differ in backend since each trains only its own local head.
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../../vit/backend.ts';
import { TFJS_WASM_PATHS } from '../../vit/wasm-paths.ts';
import { DEFAULT_LOCAL_TRAINING, trainHead } from '../../fl/head.ts';
import { FedAvgHead } from '../../fl/strategies/fedavg-head.ts';
import type { HeadTrainingRequest, HeadTrainingResponse } from './fedavg.ts';

const ready = chooseBackend({ wasmPaths: TFJS_WASM_PATHS });

self.onmessage = async (event: MessageEvent<HeadTrainingRequest>) => {
  const { id, start, train, epochs, seed, clinicCount } = event.data;
  const reply = (message: HeadTrainingResponse, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);
  try {
    await ready;
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
