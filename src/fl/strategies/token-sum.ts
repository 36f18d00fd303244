// sum: the federation adds the clinics' [CLS] tokens themselves, position by position (token t of every clinic goes
// into slot t of the sum), and learns no classifier: the decrypted sum is the result. It is the protocol's plainest
// round (encrypt, add, decrypt), kept so a clinic can check the homomorphic sum against its own tokens. Every tile
// counts, labelled or not; the length is the clinic's tile count, so a federation cannot declare a shape for it.
import { tokenSumBounds, type PrototypesOptions } from './prototypes.ts';
import type { ClinicData, RoundStrategy } from './types.ts';

/** `bounds`: the same public token bounds as prototypes (maxCount tokens of |value| <= tokenLimit). */
export function tokenSum(bounds: PrototypesOptions = {}): RoundStrategy {
  return {
    name: 'sum',
    contributionLength: () => null,
    roundBounds: (clinicCount) => tokenSumBounds(clinicCount, bounds),
    // The clinic's tokens one after the other; labels are ignored.
    contribute: async (clinic: ClinicData) => Float64Array.from(clinic.train.tokens),
    combine: () => null,
  };
}
