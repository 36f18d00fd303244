// SHA-256, synchronous, in every realm (browser main thread, workers, Node) from @noble/hashes. WebCrypto's digest is
// async only, which forced async code paths (and copies) wherever a digest names a blob or a model.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex } from './hex.ts';

const encoder = new TextEncoder();

/** SHA-256 of bytes, or of a string's UTF-8 encoding. */
export function sha256(input: Uint8Array | string): Uint8Array {
  return nobleSha256(typeof input === 'string' ? encoder.encode(input) : input);
}

export function sha256Hex(input: Uint8Array | string): string {
  return toHex(sha256(input));
}

/** Incremental SHA-256 for inputs read in pieces (model files streamed tensor by tensor, slide fingerprints). */
export function sha256Stream(): { update(chunk: Uint8Array): void; digestHex(): string } {
  const hash = nobleSha256.create();
  return {
    update(chunk) {
      hash.update(chunk);
    },
    digestHex() {
      return toHex(hash.digest());
    },
  };
}
