// Weighted aggregation in which the coordinator learns nothing in clear, not even sample counts.
//
// Clinic i (count n_i, vector v_i) uploads Enc(n_i * v_i || n_i); the coordinator only adds (sumCiphertexts); a
// key holder decrypts (sum n_i v_i || sum n_i) and divides. Slot layout of the flat vector [values..., count]: value k
// in ciphertext floor(k / slotCount), slot k mod slotCount; the count follows the last value. A classifier head is
// packed as packHead() does: weights row-major (class c, feature j at c*D + j), then the C biases, then the count, so
// a 3 x 768 head needs 2,308 of 4,096 slots: one ciphertext.
//
// Scale headroom, explicitly: the sum must satisfy |sum| * scale < 2^(bits(q0) - 2) (two bits for noise and sign), and
// |sum n_i v_i| <= K * maxCount * maxAbsValue for K clinics. So each round encodes at
//   scaleBits = floor(bits(q0) - 2 - log2(K * maxCount * max(1, maxAbsValue)))
// (K, maxCount and maxAbsValue are public round parameters; every clinic must use the same values or the sum is
// refused for a scale mismatch). Fresh symmetric noise is ~2^10 in scaled units, so the absolute error of the summed
// numerator is ~sqrt(K) * 2^10 / 2^scaleBits, and the relative error of the mean is that divided by
// sum(n_i) * ||mean||_inf. With the defaults (59-bit q0, maxCount 1e5, maxAbsValue 4): scale 2^36 at K=3, 2^28 at
// K=1000. Worst case is every clinic holding a single tile (sum n_i = K): then the relative error is about
// sqrt(K) * 2^10 / (2^scaleBits * K * ||mean||_inf), which exceeds 1e-6 for K >~ 100 when ||mean||_inf ~ 0.05
// (see README "Weighted aggregation"). aggregationPresetFor() therefore moves such federations to agg-wide-v1,
// whose two data primes give the same round 2^87 of scale.
import type { AggregationPresetId } from '../protocol/vocabulary.ts';
import type { HeContext, SecretKeyRef } from './context.ts';
import { HeError } from './errors.ts';
import { PRESETS } from './params.ts';
import { decryptSlots, encryptSlots } from './tokens.ts';

export interface AggregationRound {
  /** Clinics that may contribute to this round's sum (public). */
  clinicCount: number;
  /** Upper bound on any clinic's sample count (default 100,000). */
  maxCount?: number;
  /** Upper bound on |value| of any clinic's vector entry (default 4, ample for linear-head weights). */
  maxAbsValue?: number;
}

export const DEFAULT_MAX_COUNT = 100_000;
export const DEFAULT_MAX_ABS_VALUE = 4;
/** Bits kept free above the largest possible sum for CKKS noise and the sign. */
const GUARD_BITS = 2;
/** Beyond 2^90 the encoder gains nothing: doubles carry 53 bits, and the noise is already ~2^-80 of a unit. */
const MAX_SCALE_BITS = 90;
/**
 * Below this scale a round of single-tile clinics can lose 1e-6 relative precision to the fresh noise (measured:
 * 2^31 at 100 clinics keeps it, 2^28 at 1000 clinics does not), so larger federations use agg-wide-v1.
 */
export const MIN_PRECISE_SCALE_BITS = 30;

/**
 * The aggregation preset a federation of these bounds should use: agg-v1 (one ciphertext of <= 64 KiB for a
 * 3-class head) while it keeps 2^30 of scale, else agg-wide-v1 (two data primes, twice the bytes, exact).
 */
export function aggregationPresetFor(round: AggregationRound): AggregationPresetId {
  const { clinicCount, maxCount, maxAbsValue } = roundBounds(round);
  const q0Bits = PRESETS['agg-v1'].coeffModulusBits[0] as number;
  const scaleBits = Math.floor(q0Bits - GUARD_BITS - Math.log2(clinicCount * maxCount * Math.max(1, maxAbsValue)));
  return scaleBits >= MIN_PRECISE_SCALE_BITS ? 'agg-v1' : 'agg-wide-v1';
}

function roundBounds(round: AggregationRound): { clinicCount: number; maxCount: number; maxAbsValue: number } {
  const { clinicCount, maxCount = DEFAULT_MAX_COUNT, maxAbsValue = DEFAULT_MAX_ABS_VALUE } = round;
  if (!Number.isInteger(clinicCount) || clinicCount < 1) {
    throw new HeError('bad-argument', `round clinicCount ${clinicCount} must be a positive integer`);
  }
  if (!Number.isInteger(maxCount) || maxCount < 1) {
    throw new HeError('bad-argument', `round maxCount ${maxCount} must be a positive integer`);
  }
  if (!(maxAbsValue > 0 && Number.isFinite(maxAbsValue))) {
    throw new HeError('bad-argument', `round maxAbsValue ${maxAbsValue} must be a positive finite number`);
  }
  return { clinicCount, maxCount, maxAbsValue };
}

/** The round's encoding scale (log2), from the headroom rule above (bits(q) = all data primes of a fresh ciphertext). */
export function aggregationScaleBits(ctx: HeContext, round: AggregationRound): number {
  const { clinicCount, maxCount, maxAbsValue } = roundBounds(round);
  const sumBits = Math.log2(clinicCount * maxCount * Math.max(1, maxAbsValue));
  const scaleBits = Math.floor(Math.min(ctx.freshModulusBits - GUARD_BITS - sumBits, MAX_SCALE_BITS));
  if (scaleBits < 20) {
    throw new HeError(
      'out-of-range',
      `round bounds need 2^${sumBits.toFixed(1)} of headroom; preset ${ctx.preset.id} leaves scale 2^${scaleBits} (< 2^20)`,
    );
  }
  return scaleBits;
}

/** Slots needed for `length` values plus the count. */
export function weightedCiphertextCount(ctx: HeContext, length: number): number {
  return Math.ceil((length + 1) / ctx.slotCount);
}

/** Enc(count * values || count) as seeded symmetric ciphertexts at the round's scale. */
export async function encryptWeightedContribution(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  federationId: string,
  values: Float32Array | Float64Array,
  count: number,
  round: AggregationRound,
): Promise<Uint8Array[]> {
  const { maxCount, maxAbsValue } = roundBounds(round);
  if (!Number.isInteger(count) || count < 1 || count > maxCount) {
    throw new HeError('out-of-range', `sample count ${count} must be an integer in 1..${maxCount}`);
  }
  if (values.length === 0) throw new HeError('bad-argument', 'weighted contribution needs at least one value');
  const flat = new Float64Array(weightedCiphertextCount(ctx, values.length) * ctx.slotCount);
  for (let k = 0; k < values.length; k++) {
    const v = values[k] as number;
    if (!(Math.abs(v) <= maxAbsValue)) {
      throw new HeError('out-of-range', `value ${k} is ${v}; the round allows |value| <= ${maxAbsValue}`);
    }
    flat[k] = count * v;
  }
  flat[values.length] = count;
  const scale = 2 ** aggregationScaleBits(ctx, round);
  const out: Uint8Array[] = [];
  for (let start = 0; start < flat.length; start += ctx.slotCount) {
    out.push(encryptSlots(ctx, secretKey, federationId, flat.subarray(start, start + ctx.slotCount), scale));
  }
  return out;
}

export interface WeightedMean {
  mean: Float64Array;
  /** Sum of the clinics' counts (rounded: it is an integer sum). */
  totalCount: number;
}

/** Decrypts a summed contribution of `length` values and divides by the summed count. */
export async function decryptWeightedMean(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  sums: readonly Uint8Array[],
  length: number,
): Promise<WeightedMean> {
  const expected = weightedCiphertextCount(ctx, length);
  if (sums.length !== expected) {
    throw new HeError('bad-argument', `${length} values + count need ${expected} ciphertexts, got ${sums.length}`);
  }
  const flat = new Float64Array(expected * ctx.slotCount);
  sums.forEach((bytes, i) => flat.set(decryptSlots(ctx, secretKey, bytes, `summed ciphertext ${i}`), i * ctx.slotCount));
  const totalCount = Math.round(flat[length] as number);
  if (totalCount < 1) throw new HeError('mismatch', `decrypted total count is ${flat[length]}, not a positive integer`);
  const mean = new Float64Array(length);
  for (let k = 0; k < length; k++) mean[k] = (flat[k] as number) / totalCount;
  return { mean, totalCount };
}
