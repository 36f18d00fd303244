// Passphrase-protected key file: the secret-key envelope encrypted with AES-GCM-256 under a PBKDF2-SHA256 key
// (WebCrypto; Node 24 and browsers). The file is itself an envelope of kind 'wrapped-secret-key' carrying the same
// federation id and preset hash as the key inside, so a clinic can see which federation a file belongs to before
// typing a passphrase. Those header fields are bound into the AES-GCM additional data, so editing them breaks the tag.
//
// Payload layout (big-endian): version u8 (1) | kdf u8 (1 = PBKDF2-SHA256) | iterations u32 | salt[16] | iv[12] |
// AES-GCM ciphertext of the secret-key envelope, 16-byte tag appended.
import { wipe } from '../common/wipe.ts';
import { decodeEnvelope, encodeEnvelope } from '../protocol/envelope.ts';
import { HeError, toHeError } from './errors.ts';

const KEYFILE_VERSION = 1;
const KDF_PBKDF2_SHA256 = 1;
/** OWASP 2023 figure for PBKDF2-HMAC-SHA256; files below MIN_ITERATIONS are refused. */
export const KEYFILE_ITERATIONS = 600_000;
const MIN_ITERATIONS = 310_000;
const MAX_ITERATIONS = 10_000_000;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const KDF_HEADER_BYTES = 1 + 1 + 4 + SALT_BYTES + IV_BYTES;

async function deriveKey(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function additionalData(kdfHeader: Uint8Array, federationId: string, presetHash: Uint8Array): Uint8Array<ArrayBuffer> {
  const fed = new TextEncoder().encode(federationId);
  const aad = new Uint8Array(kdfHeader.length + fed.length + presetHash.length);
  aad.set(kdfHeader, 0);
  aad.set(fed, kdfHeader.length);
  aad.set(presetHash, kdfHeader.length + fed.length);
  return aad;
}

export async function sealKeyFile(secretKey: Uint8Array, passphrase: string): Promise<Uint8Array> {
  if (passphrase.length === 0) throw new HeError('bad-argument', 'key file passphrase must not be empty');
  let inner;
  try {
    inner = decodeEnvelope(secretKey, { kind: 'secret-key' });
  } catch (e) {
    throw toHeError(e, 'sealing a key file');
  }
  const header = new Uint8Array(KDF_HEADER_BYTES);
  const view = new DataView(header.buffer);
  header[0] = KEYFILE_VERSION;
  header[1] = KDF_PBKDF2_SHA256;
  view.setUint32(2, KEYFILE_ITERATIONS);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  header.set(salt, 6);
  header.set(iv, 6 + SALT_BYTES);
  const key = await deriveKey(passphrase, salt, KEYFILE_ITERATIONS);
  const plain = new Uint8Array(secretKey);
  let sealed: ArrayBuffer;
  try {
    sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(header, inner.federationId, inner.presetHash) }, key, plain);
  } finally {
    wipe(plain);
  }
  const payload = new Uint8Array(header.length + sealed.byteLength);
  payload.set(header, 0);
  payload.set(new Uint8Array(sealed), header.length);
  return encodeEnvelope({
    kind: 'wrapped-secret-key',
    federationId: inner.federationId,
    presetHash: inner.presetHash,
    payload,
  });
}

/** Returns the secret-key envelope inside `file`; a wrong passphrase (or a tampered file) is HeError('bad-passphrase'). */
export async function openKeyFile(file: Uint8Array, passphrase: string): Promise<Uint8Array> {
  let outer;
  try {
    outer = decodeEnvelope(file, { kind: 'wrapped-secret-key' });
  } catch (e) {
    throw toHeError(e, 'opening a key file');
  }
  const payload = outer.payload;
  if (payload.length < KDF_HEADER_BYTES + 16) {
    throw new HeError('bad-keyfile', `key file payload is ${payload.length} bytes, too short for header and tag`);
  }
  if (payload[0] !== KEYFILE_VERSION) {
    throw new HeError('bad-keyfile', `key file version ${payload[0]}, this build reads ${KEYFILE_VERSION}`);
  }
  if (payload[1] !== KDF_PBKDF2_SHA256) throw new HeError('bad-keyfile', `unknown key derivation id ${payload[1]}`);
  const iterations = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(2);
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new HeError('bad-keyfile', `PBKDF2 iteration count ${iterations} outside ${MIN_ITERATIONS}..${MAX_ITERATIONS}`);
  }
  const header = payload.slice(0, KDF_HEADER_BYTES);
  const salt = header.slice(6, 6 + SALT_BYTES);
  const iv = header.slice(6 + SALT_BYTES, KDF_HEADER_BYTES);
  const key = await deriveKey(passphrase, salt, iterations);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: additionalData(header, outer.federationId, outer.presetHash) },
      key,
      payload.slice(KDF_HEADER_BYTES),
    );
  } catch (e) {
    throw new HeError('bad-passphrase', 'wrong passphrase, or the key file was modified', { cause: e });
  }
  const secretKey = new Uint8Array(plain);
  try {
    decodeEnvelope(secretKey, { kind: 'secret-key', federationId: outer.federationId, presetHash: outer.presetHash });
  } catch (e) {
    wipe(secretKey);
    throw toHeError(e, 'reading the secret key inside a key file');
  }
  return secretKey;
}
