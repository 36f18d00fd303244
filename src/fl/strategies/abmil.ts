// abmil: federated gated-attention MIL. Each round a clinic trains the decrypted global ABMIL on its slides (tfjs,
// Adam, dropout, a seed per clinic and round; src/fl/abmil.ts) and contributes [n * theta, n] for its n slides:
// FedAvg of every parameter weighted by slide counts, as HistoFL does, with the counts inside the ciphertexts.
// The model is D*512 + 512 + 2(512*256 + 256) + 257 + 512*C + C values, so a clinic sends several ciphertexts a
// round: 113 for D = 384, 161 for D = 768, 257 for D = 1536 (C = 3; 4,096 values per agg-v1 ciphertext).
import { DEFAULT_MAX_ABS_VALUE, DEFAULT_MAX_COUNT } from '../../he/aggregate.ts';
import { abmilForward, abmilParameterCount, abmilShape, initAbmil, trainAbmil } from '../abmil.ts';
import type { AbmilShape, AbmilTraining } from '../abmil.ts';
import { deriveSeed } from '../random.ts';
import type { SlideClinicData, SlideSet } from '../slides.ts';
import type { SlideStrategy } from './types.ts';

export interface AbmilModel {
  shape: AbmilShape;
  /** Flat parameters in ABMIL_PARAMETERS order. */
  parameters: Float64Array;
}

export interface AbmilOptions {
  training: Omit<AbmilTraining, 'seed'>;
  /** Fixes the initial model (the same at every clinic) and each clinic's local training. */
  seed: number;
  /** Public bound on any clinic's slide count (default 100,000). */
  maxCount?: number;
}

export class Abmil implements SlideStrategy<AbmilModel> {
  readonly name = 'abmil';
  readonly #opts: AbmilOptions;

  constructor(opts: AbmilOptions) {
    this.#opts = opts;
  }

  initialModel(classes: number, dim: number): AbmilModel {
    const shape = abmilShape(dim, classes);
    return { shape, parameters: initAbmil(shape, deriveSeed(this.#opts.seed, 'abmil global init')) };
  }

  roundsFor(requested: number): number {
    return requested;
  }

  contributionLength(classes: number, dim: number): number {
    return abmilParameterCount(abmilShape(dim, classes)) + 1;
  }

  roundBounds(clinicCount: number) {
    // Glorot-initialised weights trained with small Adam steps stay far below 4; one that grows past it is refused
    // (out-of-range, naming the parameter), never wrapped around the CKKS modulus.
    return { clinicCount, maxCount: this.#opts.maxCount ?? DEFAULT_MAX_COUNT, maxAbsValue: DEFAULT_MAX_ABS_VALUE };
  }

  async contribute(clinic: SlideClinicData, global: AbmilModel, round: number): Promise<Float64Array> {
    const seed = deriveSeed(this.#opts.seed, `abmil clinic ${clinic.index} round ${round}`);
    const { bags, labels } = clinic.train;
    const local = trainAbmil(global.shape, global.parameters, bags.map((tiles, s) => ({ tiles, label: labels[s] as number })), { ...this.#opts.training, seed });
    const n = clinic.train.count;
    const out = new Float64Array(local.length + 1);
    for (let k = 0; k < local.length; k++) {
      const v = local[k] as number;
      if (!(Math.abs(v) <= DEFAULT_MAX_ABS_VALUE)) throw new Error(`abmil: clinic ${clinic.index} round ${round}: parameter ${k} is ${v}, outside the round's |value| <= ${DEFAULT_MAX_ABS_VALUE}`);
      out[k] = n * v;
    }
    out[local.length] = n;
    return out;
  }

  combine(sum: Float64Array, previous: AbmilModel): AbmilModel {
    const length = previous.parameters.length;
    const total = Math.round(sum[length] as number);
    if (!(total >= 1)) throw new Error(`abmil: summed slide count is ${sum[length]}; no clinic contributed`);
    return { shape: previous.shape, parameters: Float64Array.from({ length }, (_, k) => (sum[k] as number) / total) };
  }

  probabilities(model: AbmilModel, set: SlideSet): Float64Array[] {
    return set.bags.map((tiles) => Float64Array.from(abmilForward(model.shape, model.parameters, tiles).probabilities));
  }
}
