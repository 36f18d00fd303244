// What the two clinics of a key relay must agree on before the federation key is wrapped, and the commitment that
// stops the coordinator from choosing its keys after seeing the requester's. Every field is length-prefixed under a
// domain tag, so no two different transcripts encode to the same bytes.
import { bytesEqual } from '../common/bytes-equal.ts';
import { sha256 } from '../common/sha256.ts';
import { PUBLIC_KEY_BYTES } from './identity.ts';

export const RELAY_NONCE_BYTES = 32;
export const COMMITMENT_BYTES = 32;

/** The requester's half, hidden behind the commitment until the holder has answered. */
export interface RequesterOpening {
  federationId: string;
  requesterClinicId: string;
  requesterIdentityKey: Uint8Array;
  requesterEphemeralKey: Uint8Array;
  requesterNonce: Uint8Array;
}

export interface RelayTranscript extends RequesterOpening {
  holderClinicId: string;
  holderIdentityKey: Uint8Array;
  holderEphemeralKey: Uint8Array;
  holderNonce: Uint8Array;
}

const encoder = new TextEncoder();

/** domain ‖ (u32 length ‖ field)*: unambiguous, so a field cannot borrow bytes from its neighbour. */
export function encodeFields(domain: string, fields: readonly (string | Uint8Array)[]): Uint8Array {
  const parts = [domain, ...fields].map((f) => (typeof f === 'string' ? encoder.encode(f) : f));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.byteLength);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
}

function checkOpeningShape(o: RequesterOpening): void {
  if (o.requesterIdentityKey.byteLength !== PUBLIC_KEY_BYTES || o.requesterEphemeralKey.byteLength !== PUBLIC_KEY_BYTES) {
    throw new Error(`relay public keys are ${PUBLIC_KEY_BYTES} bytes`);
  }
  if (o.requesterNonce.byteLength !== RELAY_NONCE_BYTES) throw new Error(`a relay nonce is ${RELAY_NONCE_BYTES} bytes`);
}

export function relayCommitment(o: RequesterOpening): Uint8Array {
  checkOpeningShape(o);
  return sha256(encodeFields('cipherpath-relay-commit-v2', [o.federationId, o.requesterClinicId, o.requesterIdentityKey, o.requesterEphemeralKey, o.requesterNonce]));
}

export function commitmentOpens(commitment: Uint8Array, o: RequesterOpening): boolean {
  try {
    return bytesEqual(commitment, relayCommitment(o));
  } catch {
    return false;
  }
}

/** The hash both sides compute; the short code is derived from it and the wrapped key is bound to it. */
export function transcriptHash(t: RelayTranscript): Uint8Array {
  checkOpeningShape(t);
  if (t.holderIdentityKey.byteLength !== PUBLIC_KEY_BYTES || t.holderEphemeralKey.byteLength !== PUBLIC_KEY_BYTES) throw new Error(`relay public keys are ${PUBLIC_KEY_BYTES} bytes`);
  if (t.holderNonce.byteLength !== RELAY_NONCE_BYTES) throw new Error(`a relay nonce is ${RELAY_NONCE_BYTES} bytes`);
  return sha256(
    encodeFields('cipherpath-relay-transcript-v2', [
      t.federationId,
      t.requesterClinicId,
      t.holderClinicId,
      t.requesterIdentityKey,
      t.holderIdentityKey,
      t.requesterEphemeralKey,
      t.holderEphemeralKey,
      t.requesterNonce,
      t.holderNonce,
    ]),
  );
}
