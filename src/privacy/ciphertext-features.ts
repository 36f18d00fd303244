// What the coordinator can compute from one stored token ciphertext without the secret key: the ciphertext's own
// numbers. A seeded symmetric CKKS ciphertext is (c0, c1) with c1 = a (expanded from a public seed) and
// c0 = −a·s + Δ·m + e, both in NTT form mod q; c0 is the only part that depends on the token m at all. This reads the
// envelope the way the coordinator does (HeContext.loadCiphertext: envelope + SEAL checks, no key), re-serialises it
// uncompressed and returns the first `count` residues of c0 scaled to [0, 1), plus the envelope's byte length (the one
// thing a length-based side channel could use). The audit's coordinator attacker learns images from these.
import type { HeContext } from '../he/context.ts';
import { withScope } from '../he/scope.ts';

/** `count` residues of c0 / q0, then the envelope length in bytes: count + 1 values. */
export function ciphertextFeatures(ctx: HeContext, envelope: Uint8Array, count = 512): Float32Array {
  const n = ctx.preset.polyModulusDegree;
  if (!Number.isInteger(count) || count < 1 || count > n) throw new Error(`ciphertextFeatures: count ${count} must be an integer in 1..${n}`);
  const q0 = ctx.dataPrimes[0]!;
  return withScope((scope) => {
    const ct = scope.track(ctx.loadCiphertext(envelope, undefined, 'stored token ciphertext', true));
    const raw = ct.saveToArray(ctx.seal.ComprModeType.none) as Uint8Array;
    // SEAL writes the coefficient array last: its uint64 length, then c0 (all primes), then c1.
    const words = ct.size() * n * ct.coeffModulusSize();
    const dataStart = raw.length - words * 8;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (dataStart < 8 || view.getBigUint64(dataStart - 8, true) !== BigInt(words)) {
      throw new Error(`ciphertextFeatures: unexpected SEAL serialisation (no ${words}-coefficient array at the end of ${raw.length} bytes)`);
    }
    const features = new Float32Array(count + 1);
    for (let i = 0; i < count; i++) features[i] = Number(view.getBigUint64(dataStart + 8 * i, true)) / Number(q0);
    features[count] = envelope.length;
    return features;
  });
}
