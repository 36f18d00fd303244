// Noise flooding for CKKS decryption output that leaves a clinic (issue 11, finding 9). A decrypted CKKS value is
// the plaintext plus the ciphertext's decryption noise; handing it to the party that holds the ciphertext is the
// IND-CPA-D setting in which key-recovery attacks on CKKS are published (Li–Micciancio, Eurocrypt 2021). So every
// decrypted value a clinic sends in clear (a head published "in clear" for inference) first gets Gaussian noise of
// σ = 1e-5, about three orders of magnitude above the CKKS error of these presets (~1e-8 at scale 2^30 and more), and is
// then rounded to 1e-6 (FLOODED_PRECISION), so what leaves says nothing finer than that about the decryption noise.
// The noise comes from a cryptographic RNG: a 32-byte seed (fresh from crypto.getRandomValues unless a test passes
// one) expanded by HKDF-SHA256, so it is reproducible only for whoever holds the seed.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { wipe } from '../common/wipe.ts';

/** Standard deviation of the flooding noise. */
export const FLOODING_SIGMA = 1e-5;
/** Values leave rounded to a multiple of this. */
export const FLOODED_PRECISION = 1e-6;
/** What a value published in clear reveals, for the UI. */
export const FLOODING_STATEMENT =
  `each number is published with Gaussian noise of σ = ${FLOODING_SIGMA} added and rounded to ${FLOODED_PRECISION}: ` +
  'it reveals the model itself to the coordinator (anyone running it can read and use the head), but not the CKKS decryption noise';

const INFO = new TextEncoder().encode('cipherpath noise flooding v1');

/** `values` with N(0, sigma²) noise added to each, then rounded to `precision`; a fresh seed unless one is given. */
export function floodNoise(values: ArrayLike<number>, opts: { seed?: Uint8Array; sigma?: number; precision?: number } = {}): Float64Array {
  const sigma = opts.sigma ?? FLOODING_SIGMA;
  const precision = opts.precision ?? FLOODED_PRECISION;
  const seed = opts.seed ?? crypto.getRandomValues(new Uint8Array(32));
  // Two 53-bit uniforms per Box–Muller pair, 16 bytes per value; HKDF-Expand allows 255 blocks, so expand per chunk.
  const out = new Float64Array(values.length);
  const PER_CHUNK = 255 * 2;
  for (let start = 0; start < values.length; start += PER_CHUNK) {
    const count = Math.min(PER_CHUNK, values.length - start);
    const info = new Uint8Array(INFO.length + 4);
    info.set(INFO);
    new DataView(info.buffer).setUint32(INFO.length, start / PER_CHUNK);
    const bytes = hkdf(sha256, seed, undefined, info, count * 16);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const uniform = (at: number) => (view.getUint32(at) * 2 ** 21 + (view.getUint32(at + 4) >>> 11) + 0.5) / 2 ** 53;
    for (let i = 0; i < count; i++) {
      const u1 = uniform(i * 16);
      const u2 = uniform(i * 16 + 8);
      const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      const noised = (values[start + i] as number) + sigma * normal;
      out[start + i] = Math.round(noised / precision) * precision;
    }
    wipe(bytes);
  }
  if (!opts.seed) wipe(seed);
  return out;
}
