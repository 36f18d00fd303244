// The secret values src/fl's inclusion check (src/fl/inclusion.ts) draws from the federation secret key. They live
// here, beside the key, because only the HE realm holds the key: the browser's HE worker derives the marker secret
// from the key in a slot (key-slots.ts) and hands out markers, never the secret; Node callers that hold the key
// bytes themselves (the simulator, tests) call the same functions.
//
// Marker k of clinic i in round r is a number in [-1, 1] drawn by HKDF-SHA256 from a secret every key holder shares
// (HKDF of the federation secret-key envelope, identical bytes at every key holder), the federation id, r, i and k.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const MARKER_SLOTS = 8;

const encoder = new TextEncoder();
const MARKER_SALT = encoder.encode('cipherpath inclusion markers v1');

/** The shared marker secret: HKDF of the federation secret-key envelope. */
export function markerSecret(federationSecretKey: Uint8Array, federationId: string): Uint8Array {
  return hkdf(sha256, federationSecretKey, MARKER_SALT, encoder.encode(`marker secret\0${federationId}`), 32);
}

/** Clinic `clinicId`'s MARKER_SLOTS markers for `round`, each uniform in [-1, 1]. */
export function markers(secret: Uint8Array, federationId: string, round: number, clinicId: string): Float64Array {
  const out = new Float64Array(MARKER_SLOTS);
  for (let k = 0; k < MARKER_SLOTS; k++) {
    const bytes = hkdf(sha256, secret, undefined, encoder.encode(`marker\0${federationId}\0${round}\0${clinicId}\0${k}`), 8);
    // 53 random bits give a double in [0, 1) exactly; mapped to [-1, 1).
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const unit = (view.getUint32(0) * 2 ** 21 + (view.getUint32(4) >>> 11)) / 2 ** 53;
    out[k] = 2 * unit - 1;
  }
  return out;
}
