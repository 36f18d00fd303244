// ridge: one round of encrypted Gram statistics. Each clinic sends the upper triangle of X~^T X~ and X~^T Y for its
// tokens (x~ = [x, 1], Y one-hot); the sums are the pooled statistics, so every clinic solves the same ridge system
// locally and gets exactly the head a ridge regression on the pooled data gives (the aggregator never sees a
// statistic in clear). Traffic: (D+1)(D+2)/2 + (D+1)C values, 298,372 for D=768 and C=3: 73 agg-v1 ciphertexts.
// Headroom: an entry is at most n * max(|x|, 1)^2, hence maxAbsValue = tokenLimit^2 and the scale drops to ~2^31.
// Width: the statistics grow as D^2/2. Per clinic (seeded agg-v1 uploads, ~64.5 KB per ciphertext; the download is
// an unseeded sum, twice that): D = 384: 19 cts, 1.2 MB; 768: 73 cts, 4.7 MB; 1024: 130 cts, 8.4 MB; 1536: 290 cts,
// 18.7 MB up, 37 MB down; 2560: 803 cts, 51.8 MB up and 103 MB down, which no longer fits one 64 MiB bundle
// (src/protocol/bundle.ts), plus a float64 Cholesky of 2561^2 (~5.6e9 flops) at every clinic. It stays sensible up
// to D = 1024 (a ViT-L token); UNI2-h / H-optimus (1536) still work at 19 MB a clinic; beyond MAX_RIDGE_DIM (the
// widest D whose summed statistics fit one bundle) it is refused before any statistic is computed, and
// fedavg-head or prototypes (2 ciphertexts at D = 2560) do the job.
import { formatDecimalBytes } from '../../common/format-bytes.ts';
import { DEFAULT_MAX_COUNT } from '../../he/aggregate.ts';
import type { LinearHead } from '../../he/head.ts';
import { TOKEN_LIMIT } from '../dataset.ts';
import { ridgeStatistics, solveRidge, upperTriangleLength } from '../linalg.ts';
import type { ClinicData, Strategy } from './types.ts';

/** The summed statistics of D = 2048 (2.1M values, 515 unseeded ciphertexts, ~66 MB) still fit one 64 MiB bundle. */
export const MAX_RIDGE_DIM = 2048;

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
    const length = upperTriangleLength(dim + 1) + (dim + 1) * classes;
    if (dim > MAX_RIDGE_DIM) {
      throw new Error(
        `ridge: D = ${dim} needs ${length.toLocaleString('en')} values (${Math.ceil(length / 4096)} ciphertexts, ` +
          `~${formatDecimalBytes(Math.ceil(length / 4096) * 64_500, { fractionDigits: 0 })} up per clinic); ridge is refused beyond D = ${MAX_RIDGE_DIM}: use fedavg-head or prototypes`,
      );
    }
    return length;
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
