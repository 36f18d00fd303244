// prototypes: one round of per-class sums of [CLS] tokens plus per-class counts (the tokens themselves are the unit
// of aggregation, as in the paper). The clinics divide after decryption and get the pooled class means mu_c exactly;
// the classifier is nearest-class-mean, written as a linear head (argmin ||x - mu_c||^2 = argmax mu_c.x - |mu_c|^2/2),
// so it runs through the same prediction and encrypted-inference paths as the trained heads.
import { DEFAULT_MAX_COUNT } from '../../he/aggregate.ts';
import type { LinearHead } from '../../he/head.ts';
import { TOKEN_LIMIT } from '../dataset.ts';
import type { ClinicData, Strategy } from './types.ts';

/** The public bounds of the tokens a clinic sums (prototypes and the token sum). */
export interface PrototypesOptions {
  /** Public bound on any clinic's token count (default 100,000). */
  maxCount?: number;
  /** Public bound on |token value| (default TOKEN_LIMIT); a larger value is refused before encryption. */
  tokenLimit?: number;
}

/** The round bounds of a sum of at most maxCount tokens of |value| <= tokenLimit per clinic. */
export function tokenSumBounds(clinicCount: number, opts: PrototypesOptions) {
  return { clinicCount, maxCount: opts.maxCount ?? DEFAULT_MAX_COUNT, maxAbsValue: opts.tokenLimit ?? TOKEN_LIMIT };
}

export class Prototypes implements Strategy {
  readonly name = 'prototypes';
  readonly #opts: PrototypesOptions;

  constructor(opts: PrototypesOptions = {}) {
    this.#opts = opts;
  }

  roundsFor(): number {
    return 1;
  }

  /** [class sums (classes x dim, row-major), class counts (classes)]. */
  contributionLength(classes: number, dim: number): number {
    return classes * dim + classes;
  }

  roundBounds(clinicCount: number) {
    return tokenSumBounds(clinicCount, this.#opts);
  }

  async contribute(clinic: ClinicData): Promise<Float64Array> {
    const { dim, classes, count, tokens, labels } = clinic.train;
    const limit = this.#opts.tokenLimit ?? TOKEN_LIMIT;
    const out = new Float64Array(this.contributionLength(classes, dim));
    for (let t = 0; t < count; t++) {
      const c = labels[t] as number;
      for (let j = 0; j < dim; j++) {
        const v = tokens[t * dim + j] as number;
        if (!(Math.abs(v) <= limit)) throw new Error(`prototypes: clinic ${clinic.index} token ${t} value ${j} is ${v}; |value| must be <= ${limit}`);
        out[c * dim + j] = (out[c * dim + j] as number) + v;
      }
      out[classes * dim + c] = (out[classes * dim + c] as number) + 1;
    }
    return out;
  }

  combine(sum: Float64Array, previous: LinearHead): LinearHead {
    const { classes, dim } = previous;
    const weights = new Float64Array(classes * dim);
    const biases = new Float64Array(classes);
    for (let c = 0; c < classes; c++) {
      const count = Math.round(sum[classes * dim + c] as number);
      if (count < 1) throw new Error(`prototypes: class ${c} has no tokens at any clinic (summed count ${sum[classes * dim + c]})`);
      let norm2 = 0;
      for (let j = 0; j < dim; j++) {
        const mean = (sum[c * dim + j] as number) / count;
        weights[c * dim + j] = mean;
        norm2 += mean * mean;
      }
      biases[c] = -norm2 / 2;
    }
    return { classes, dim, weights, biases };
  }
}
