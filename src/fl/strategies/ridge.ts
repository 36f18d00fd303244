// ridge: one round of encrypted Gram statistics. Each clinic sends the upper triangle of X~^T X~ and X~^T Y for its
// tokens (x~ = [x, 1], Y one-hot); the sums are the pooled statistics, so every clinic solves the same ridge system
// locally and gets exactly the head a ridge regression on the pooled data gives (the aggregator never sees a
// statistic in clear). Traffic: (D+1)(D+2)/2 + (D+1)C values, 298,372 for D=768 and C=3: 73 agg-v1 ciphertexts.
// Headroom: an entry is at most n * max(|x|, 1)^2, hence maxAbsValue = tokenLimit^2 and the scale drops to ~2^31.
import { DEFAULT_MAX_COUNT } from '../../he/aggregate.ts';
import type { LinearHead } from '../../he/head.ts';
import { TOKEN_LIMIT } from '../dataset.ts';
import { ridgeStatistics, solveRidge, upperTriangleLength } from '../linalg.ts';
import type { ClinicData, Strategy } from './types.ts';

export interface RidgeOptions {
  /** Penalty per token: the solve uses lambda * (total token count) * ||W||^2 (biases unpenalised). Default 1. */
  lambda?: number;
  maxCount?: number;
  tokenLimit?: number;
}

export class Ridge implements Strategy {
  readonly name = 'ridge';
  readonly lambda: number;
  readonly #opts: RidgeOptions;

  constructor(opts: RidgeOptions = {}) {
    this.#opts = opts;
    this.lambda = opts.lambda ?? 1;
  }

  roundsFor(): number {
    return 1;
  }

  contributionLength(classes: number, dim: number): number {
    return upperTriangleLength(dim + 1) + (dim + 1) * classes;
  }

  roundBounds(clinicCount: number) {
    const limit = Math.max(1, this.#opts.tokenLimit ?? TOKEN_LIMIT);
    return { clinicCount, maxCount: this.#opts.maxCount ?? DEFAULT_MAX_COUNT, maxAbsValue: limit * limit };
  }

  async contribute(clinic: ClinicData): Promise<Float64Array> {
    const limit = this.#opts.tokenLimit ?? TOKEN_LIMIT;
    const { tokens } = clinic.train;
    for (let k = 0; k < tokens.length; k++) {
      if (!(Math.abs(tokens[k] as number) <= limit)) {
        const t = Math.floor(k / clinic.train.dim);
        throw new Error(`ridge: clinic ${clinic.index} token ${t} value ${k - t * clinic.train.dim} is ${tokens[k]}; |value| must be <= ${limit}`);
      }
    }
    return ridgeStatistics(clinic.train);
  }

  combine(sum: Float64Array, previous: LinearHead): LinearHead {
    return ridgeHead(sum, previous.classes, previous.dim, this.lambda);
  }
}

/** The ridge head for (summed or pooled) statistics. */
export function ridgeHead(stats: Float64Array, classes: number, dim: number, lambda: number): LinearHead {
  const w = solveRidge(stats, dim, classes, lambda);
  const weights = new Float64Array(classes * dim);
  for (let j = 0; j < dim; j++) for (let c = 0; c < classes; c++) weights[c * dim + j] = w[j * classes + c] as number;
  return { classes, dim, weights, biases: w.slice(dim * classes) };
}
