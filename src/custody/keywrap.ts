// Wrapping the federation secret key for exactly one approved clinic (ECDH P-256 → HKDF-SHA-256 → AES-GCM-256).
// The wrapped form is: magic 'CPWK', version 1, 32-byte HKDF salt, 12-byte IV, AES-GCM ciphertext+tag.
import { importPublicKey } from './identity.ts';

const MAGIC = [0x43, 0x50, 0x57, 0x4b];
const VERSION = 1;
const SALT_BYTES = 32;
const IV_BYTES = 12;
const HEADER_BYTES = MAGIC.length + 1 + SALT_BYTES + IV_BYTES;
export const MAX_WRAPPED_BYTES = 8 * 1024 * 1024;

export interface RelayBinding {
  federationId: string;
  holderClinicId: string;
  requesterClinicId: string;
}

export class KeyWrapError extends Error {
  readonly code: 'malformed' | 'unwrap-failed';
  constructor(code: KeyWrapError['code'], message: string) {
    super(message);
    this.name = 'KeyWrapError';
    this.code = code;
  }
}

function bindingBytes(b: RelayBinding): Uint8Array {
  return new TextEncoder().encode(`cipherpath-key-relay-v1\u0000${b.federationId}\u0000${b.holderClinicId}\u0000${b.requesterClinicId}`);
}

async function relayKey(ownPrivateKey: CryptoKey, peerPublicKeyRaw: Uint8Array, salt: Uint8Array, binding: RelayBinding, usage: KeyUsage): Promise<CryptoKey> {
  const peer = await importPublicKey(peerPublicKeyRaw);
  const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, ownPrivateKey, 256);
  const hkdfKey = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  new Uint8Array(shared).fill(0);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: salt as BufferSource, info: bindingBytes(binding) as BufferSource },
    hkdfKey,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

export async function wrapSecretKey(secretKey: Uint8Array, holderPrivateKey: CryptoKey, requesterPublicKeyRaw: Uint8Array, binding: RelayBinding): Promise<Uint8Array> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await relayKey(holderPrivateKey, requesterPublicKeyRaw, salt, binding, 'encrypt');
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: bindingBytes(binding) as BufferSource }, key, secretKey as BufferSource),
  );
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
  if (wrapped[MAGIC.length] !== VERSION) throw new KeyWrapError('malformed', `wrapped key version ${wrapped[MAGIC.length]} is not supported (expected ${VERSION})`);
}

export async function unwrapSecretKey(wrapped: Uint8Array, requesterPrivateKey: CryptoKey, holderPublicKeyRaw: Uint8Array, binding: RelayBinding): Promise<Uint8Array> {
  checkWrappedShape(wrapped);
  const salt = wrapped.subarray(MAGIC.length + 1, MAGIC.length + 1 + SALT_BYTES);
  const iv = wrapped.subarray(MAGIC.length + 1 + SALT_BYTES, HEADER_BYTES);
  const key = await relayKey(requesterPrivateKey, holderPublicKeyRaw, salt, binding, 'decrypt');
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: iv as BufferSource, additionalData: bindingBytes(binding) as BufferSource },
        key,
        wrapped.subarray(HEADER_BYTES) as BufferSource,
      ),
    );
  } catch {
    throw new KeyWrapError('unwrap-failed', 'the wrapped key does not open with this clinic’s key: it was made for another clinic, another federation, or altered in transit');
  }
}
