// The round client's HE port on the HE core in this realm (Node: the simulator and the tests, which hold the key
// bytes themselves; the browser uses the HE worker's same aggregate.ts functions by key handle through src/app). It
// also reads the aggregate's scale, which the inclusion check compares with the round's declared one.
import { aggregationScaleBits, decryptWeightedMean, encryptWeightedContribution, weightedCiphertextCount } from '../he/aggregate.ts';
import type { HeContext } from '../he/context.ts';
import { markerSecret, markers } from '../he/inclusion-markers.ts';
import { withScope } from '../he/scope.ts';
import type { RoundCrypto } from './round-client.ts';

export function contextCrypto(ctx: HeContext, secretKey: Uint8Array, federationId: string): RoundCrypto {
  const secret = markerSecret(secretKey, federationId);
  return {
    markers: async (round, clinicIds) => clinicIds.map((clinicId) => markers(secret, federationId, round, clinicId)),
    ciphertextCount: (length) => weightedCiphertextCount(ctx, length),
    encrypt: (values, bounds) => encryptWeightedContribution(ctx, secretKey, federationId, values, 1, bounds),
    async decrypt(parts, length, bounds) {
      const scales = parts.map((bytes, i) => withScope((scope) => Math.log2(scope.track(ctx.loadCiphertext(bytes, federationId, `aggregate ciphertext ${i}`, true)).scale())));
      const { mean, totalCount } = await decryptWeightedMean(ctx, secretKey, parts, length);
      const sum = mean.map((v) => v * totalCount);
      // Every part of one aggregate carries the same scale; a mixed one reports the first that differs.
      const observed = scales.find((s) => s !== scales[0]) ?? (scales[0] as number);
      return { sum, contributions: totalCount, scaleBits: { observed, expected: aggregationScaleBits(ctx, bounds) } };
    },
  };
}
