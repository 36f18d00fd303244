// Wrapping the federation secret key for the one clinic whose relay transcript the two people confirmed.
// Key: HKDF-SHA-256 over ECDH(ephemeral, ephemeral) ‖ ECDH(identity, identity), salted, with the transcript hash in
// the info; AES-GCM-256 with the transcript hash as associated data. A key wrapped under any other transcript (a
// substituted key, another relay, another federation) does not open.
// The wrapped form is: magic 'CPWK', version 2, 32-byte HKDF salt, 12-byte IV, AES-GCM ciphertext+tag.
// The AES-GCM step itself can run wherever the plaintext lives: the browser passes a sealer/opener that runs it in
// the HE worker (the relay key is a non-extractable CryptoKey, which a worker can be handed), so the federation keys
// never reach the page; callers that hold the bytes (Node, tests) pass them and WebCrypto runs it here.
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

/** AES-GCM encryption of a plaintext that only the sealer holds, under `key` with `iv` and `additionalData`. */
export type SealUnder = (key: CryptoKey, iv: Uint8Array, additionalData: Uint8Array) => Promise<Uint8Array>;
/** AES-GCM decryption into wherever the plaintext is to live; resolves null when the tag does not verify. */
export type OpenUnder<T> = (key: CryptoKey, iv: Uint8Array, additionalData: Uint8Array, sealed: Uint8Array) => Promise<T | null>;

const sealBytes = (plain: Uint8Array): SealUnder => async (key, iv, additionalData) =>
  new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: additionalData as BufferSource }, key, plain as BufferSource));

const openBytes: OpenUnder<Uint8Array> = async (key, iv, additionalData, sealed) => {
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: additionalData as BufferSource }, key, sealed as BufferSource));
  } catch {
    return null;
  }
};

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

/** Wraps the key bundle (its bytes, or a sealer that holds them) for the requester of the confirmed `transcript`. */
export async function wrapSecretKey(secretKey: Uint8Array | SealUnder, holder: RelayPrivateKeys, transcript: RelayTranscript): Promise<Uint8Array> {
  const bound = boundTo(transcript);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await relayKey(holder, transcript.requesterIdentityKey, transcript.requesterEphemeralKey, salt, bound, 'encrypt');
  const seal = secretKey instanceof Uint8Array ? sealBytes(secretKey) : secretKey;
  const sealed = await seal(key, iv, bound);
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

export function unwrapSecretKey(wrapped: Uint8Array, requester: RelayPrivateKeys, transcript: RelayTranscript): Promise<Uint8Array> {
  return unwrapSecretKeyInto(wrapped, requester, transcript, openBytes);
}

/** unwrapSecretKey with the AES-GCM step done by `open` (the HE worker, which keeps the keys it opens). */
export async function unwrapSecretKeyInto<T>(wrapped: Uint8Array, requester: RelayPrivateKeys, transcript: RelayTranscript, open: OpenUnder<T>): Promise<T> {
  checkWrappedShape(wrapped);
  const bound = boundTo(transcript);
  const salt = wrapped.subarray(MAGIC.length + 1, MAGIC.length + 1 + SALT_BYTES);
  const iv = wrapped.subarray(MAGIC.length + 1 + SALT_BYTES, HEADER_BYTES);
  const key = await relayKey(requester, transcript.holderIdentityKey, transcript.holderEphemeralKey, salt, bound, 'decrypt');
  const opened = await open(key, iv, bound, wrapped.subarray(HEADER_BYTES));
  if (opened === null) throw new KeyWrapError('unwrap-failed', 'the wrapped key does not open under this relay’s confirmed transcript: it was made for another clinic or relay, or altered in transit');
  return opened;
}
