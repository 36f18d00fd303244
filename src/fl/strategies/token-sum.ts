// sum: the federation adds the clinics' [CLS] tokens themselves, position by position (token t of every clinic goes
// into slot t of the sum), and learns no classifier: the decrypted sum is the result. It is the protocol's plainest
// round (encrypt, add, decrypt), kept so a clinic can check the homomorphic sum against its own tokens. Every tile
// counts, labelled or not; the length is the clinic's tile count, so a federation cannot declare a shape for it.
import { DEFAULT_MAX_COUNT } from '../../he/aggregate.ts';
import { TOKEN_LIMIT } from '../dataset.ts';
import type { ClinicData, RoundStrategy } from './types.ts';

export interface TokenSumOptions {
  /** Public bound on any clinic's token count (default 100,000). */
  maxCount?: number;
  /** Public bound on |token value| (default TOKEN_LIMIT). */
  tokenLimit?: number;
}

export class TokenSum implements RoundStrategy {
  readonly name = 'sum';
  readonly #opts: TokenSumOptions;

  constructor(opts: TokenSumOptions = {}) {
    this.#opts = opts;
  }

  contributionLength(): null {
    return null;
  }

  /** The bounds of prototypes with the same limits: both sum at most maxCount tokens of |value| <= tokenLimit. */
  roundBounds(clinicCount: number) {
    return { clinicCount, maxCount: this.#opts.maxCount ?? DEFAULT_MAX_COUNT, maxAbsValue: this.#opts.tokenLimit ?? TOKEN_LIMIT };
  }

  /** The clinic's tokens, one after the other (labels are ignored). */
  async contribute(clinic: ClinicData): Promise<Float64Array> {
    return Float64Array.from(clinic.train.tokens);
  }

  combine(): null {
    return null;
  }
}
