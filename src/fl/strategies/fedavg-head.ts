// fedavg-head: multi-round weighted FedAvg of the softmax-regression head. Each clinic trains from the global head
// for a few local epochs and contributes [n_i * W_i, n_i * b_i, n_i] (agg-v1's weighted layout, src/he/aggregate.ts);
// the clinics divide the sum by sum n_i after decryption. With payload 'update' the clinic sends n_i * (W_i - W_g)
// instead and the clinics add the mean update to W_g: the same model, expressed as the update that standard
// federated fine-tuning (and the gradient-encryption baseline) encrypts.
import { DEFAULT_MAX_ABS_VALUE, DEFAULT_MAX_COUNT } from '../../he/aggregate.ts';
import { packHead, unpackHead } from '../../he/head.ts';
import type { LinearHead } from '../../he/head.ts';
import { trainHead } from '../head.ts';
import type { HeadTrainer, LocalTrainingOptions } from '../head.ts';
import { deriveSeed } from '../random.ts';
import type { ClinicData, Strategy } from './types.ts';

export type FedAvgPayload = 'weights' | 'update';

export interface FedAvgHeadOptions {
  training: Omit<LocalTrainingOptions, 'seed'>;
  seed: number;
  payload?: FedAvgPayload;
  /** Public bound on any clinic's token count (default 100,000). */
  maxCount?: number;
  /** Where local training runs (default trainHead in this realm; the browser passes its head-training worker). */
  trainHead?: HeadTrainer;
}

export class FedAvgHead implements Strategy {
  readonly name = 'fedavg-head';
  readonly payload: FedAvgPayload;
  readonly #opts: FedAvgHeadOptions;

  constructor(opts: FedAvgHeadOptions) {
    this.#opts = opts;
    this.payload = opts.payload ?? 'weights';
  }

  roundsFor(requested: number): number {
    return requested;
  }

  contributionLength(classes: number, dim: number): number {
    return classes * dim + classes + 1;
  }

  roundBounds(clinicCount: number) {
    // Head weights under L2 stay far below 16; a head that grows past it is refused (out-of-range), not wrapped.
    return { clinicCount, maxCount: this.#opts.maxCount ?? DEFAULT_MAX_COUNT, maxAbsValue: DEFAULT_MAX_ABS_VALUE };
  }

  async contribute(clinic: ClinicData, global: LinearHead, round: number): Promise<Float64Array> {
    const seed = deriveSeed(this.#opts.seed, `fedavg-head clinic ${clinic.index} round ${round}`);
    const train = this.#opts.trainHead ?? trainHead;
    const local = packHead(await train(global, clinic.train, { ...this.#opts.training, seed }));
    const start = packHead(global);
    const n = clinic.train.count;
    const out = new Float64Array(local.length + 1);
    for (let k = 0; k < local.length; k++) {
      out[k] = n * ((local[k] as number) - (this.payload === 'update' ? (start[k] as number) : 0));
    }
    out[local.length] = n;
    return out;
  }

  combine(sum: Float64Array, previous: LinearHead): LinearHead {
    const length = previous.classes * previous.dim + previous.classes;
    const total = Math.round(sum[length] as number);
    if (!(total >= 1)) throw new Error(`fedavg-head: summed count is ${sum[length]}; no clinic contributed`);
    const start = packHead(previous);
    const mean = new Float64Array(length);
    for (let k = 0; k < length; k++) {
      mean[k] = (sum[k] as number) / total + (this.payload === 'update' ? (start[k] as number) : 0);
    }
    return unpackHead(mean, previous.classes, previous.dim);
  }
}
