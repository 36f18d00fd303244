// Wrapping the federation secret key for the one clinic whose relay transcript the two people confirmed.
// Key: HKDF-SHA-256 over ECDH(ephemeral, ephemeral) ‖ ECDH(identity, identity), salted, with the transcript hash in
// the info; AES-GCM-256 with the transcript hash as associated data. A key wrapped under any other transcript (a
// substituted key, another relay, another federation) does not open.
// The wrapped form is: magic 'CPWK', version 2, 32-byte HKDF salt, 12-byte IV, AES-GCM ciphertext+tag.
import { importPublicKey } from './identity.ts';
import { encodeFields, type RelayTranscript, transcriptHash } from './relay-transcript.ts';

const MAGIC = [0x43, 0x50, 0x57, 0x4b];
const VERSION = 2;
const SALT_BYTES = 32;
const IV_BYTES = 12;
const HEADER_BYTES = MAGIC.length + 1 + SALT_BYTES + IV_BYTES;
export const MAX_WRAPPED_BYTES = 8 * 1024 * 1024;

/** One side's private keys for a relay: its long-term identity and the relay's ephemeral key. */
export interface RelayPrivateKeys {
  identityPrivateKey: CryptoKey;
  ephemeralPrivateKey: CryptoKey;
}

export class KeyWrapError extends Error {
  readonly code: 'malformed' | 'unwrap-failed';
  constructor(code: KeyWrapError['code'], message: string) {
    super(message);
    this.name = 'KeyWrapError';
    this.code = code;
  }
}

async function deriveBits(own: CryptoKey, peerRaw: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: await importPublicKey(peerRaw) }, own, 256));
}

async function relayKey(own: RelayPrivateKeys, peerIdentity: Uint8Array, peerEphemeral: Uint8Array, salt: Uint8Array, bound: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  const ephemeralShared = await deriveBits(own.ephemeralPrivateKey, peerEphemeral);
  const identityShared = await deriveBits(own.identityPrivateKey, peerIdentity);
  const ikm = new Uint8Array(ephemeralShared.byteLength + identityShared.byteLength);
  ikm.set(ephemeralShared, 0);
  ikm.set(identityShared, ephemeralShared.byteLength);
  const hkdfKey = await crypto.subtle.importKey('raw', ikm as BufferSource, 'HKDF', false, ['deriveKey']);
  for (const secret of [ephemeralShared, identityShared, ikm]) secret.fill(0);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: salt as BufferSource, info: bound as BufferSource }, hkdfKey, { name: 'AES-GCM', length: 256 }, false, [usage]);
}

const boundTo = (t: RelayTranscript): Uint8Array => encodeFields('cipherpath-key-relay-v2', [transcriptHash(t)]);

export async function wrapSecretKey(secretKey: Uint8Array, holder: RelayPrivateKeys, transcript: RelayTranscript): Promise<Uint8Array> {
  const bound = boundTo(transcript);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await relayKey(holder, transcript.requesterIdentityKey, transcript.requesterEphemeralKey, salt, bound, 'encrypt');
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: bound as BufferSource }, key, secretKey as BufferSource));
  const out = new Uint8Array(HEADER_BYTES + sealed.byteLength);
  out.set(MAGIC, 0);
  out[MAGIC.length] = VERSION;
  out.set(salt, MAGIC.length + 1);
  out.set(iv, MAGIC.length + 1 + SALT_BYTES);
  out.set(sealed, HEADER_BYTES);
  return out;
}

export function checkWrappedShape(wrapped: Uint8Array): void {
  if (wrapped.byteLength > MAX_WRAPPED_BYTES) throw new KeyWrapError('malformed', `wrapped key is ${wrapped.byteLength} bytes; at most ${MAX_WRAPPED_BYTES}`);
  if (wrapped.byteLength < HEADER_BYTES + 16) throw new KeyWrapError('malformed', `wrapped key is ${wrapped.byteLength} bytes; too short to hold a header and a tag`);
  if (MAGIC.some((m, i) => wrapped[i] !== m)) throw new KeyWrapError('malformed', 'not a cipherpath wrapped key (magic is not CPWK)');
  if (wrapped[MAGIC.length] !== VERSION) {
    throw new KeyWrapError('malformed', `wrapped key version ${wrapped[MAGIC.length]} is not supported (expected ${VERSION}: keys are wrapped only after both people confirmed the relay code)`);
  }
}

export async function unwrapSecretKey(wrapped: Uint8Array, requester: RelayPrivateKeys, transcript: RelayTranscript): Promise<Uint8Array> {
  checkWrappedShape(wrapped);
  const bound = boundTo(transcript);
  const salt = wrapped.subarray(MAGIC.length + 1, MAGIC.length + 1 + SALT_BYTES);
  const iv = wrapped.subarray(MAGIC.length + 1 + SALT_BYTES, HEADER_BYTES);
  const key = await relayKey(requester, transcript.holderIdentityKey, transcript.holderEphemeralKey, salt, bound, 'decrypt');
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: bound as BufferSource }, key, wrapped.subarray(HEADER_BYTES) as BufferSource));
  } catch {
    throw new KeyWrapError('unwrap-failed', 'the wrapped key does not open under this relay’s confirmed transcript: it was made for another clinic or relay, or altered in transit');
  }
}
