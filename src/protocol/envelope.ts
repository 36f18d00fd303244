// Versioned binary envelope for every HE object that crosses the wire (ciphertexts, evaluation keys, wrapped secret
// keys). It names the federation and the parameter preset the payload belongs to, so a receiver can reject a foreign
// object before handing bytes to SEAL. No SEAL dependency: the payload is opaque here (src/he fills it with SEAL's own
// zstd serialization).
//
// Layout (all integers big-endian):
//   0  4  magic 'CPHE'
//   4  1  version (ENVELOPE_VERSION)
//   5  1  kind code (ENVELOPE_KIND_CODES)
//   6  1  federation id byte length L (1..MAX_FEDERATION_ID_BYTES)
//   7  L  federation id, utf-8
//   7+L     32  preset hash (sha-256 of the canonical CKKS parameters)
//   39+L     4  payload length P
//   43+L     P  payload
import { bytesEqual as equalBytes } from '../common/bytes-equal.ts';
import { toHex } from '../common/hex.ts';

export const ENVELOPE_MAGIC = 'CPHE';
export const ENVELOPE_VERSION = 1;
export const MAX_FEDERATION_ID_BYTES = 128;
export const PRESET_HASH_BYTES = 32;

export type EnvelopeKind =
  | 'ciphertext'
  | 'secret-key'
  | 'galois-keys'
  | 'relin-keys'
  | 'public-key'
  | 'wrapped-secret-key';

export const ENVELOPE_KIND_CODES: Readonly<Record<EnvelopeKind, number>> = {
  ciphertext: 1,
  'secret-key': 2,
  'galois-keys': 3,
  'relin-keys': 4,
  'public-key': 5,
  'wrapped-secret-key': 6,
};

const KIND_BY_CODE: ReadonlyMap<number, EnvelopeKind> = new Map(
  (Object.entries(ENVELOPE_KIND_CODES) as [EnvelopeKind, number][]).map(([kind, code]) => [code, kind]),
);

/** Default size caps per kind (whole envelope, bytes). Sized from measured N=8192 objects with generous headroom. */
export const DEFAULT_MAX_ENVELOPE_BYTES: Readonly<Record<EnvelopeKind, number>> = {
  ciphertext: 4 * 1024 * 1024,
  'secret-key': 2 * 1024 * 1024,
  'public-key': 4 * 1024 * 1024,
  'relin-keys': 16 * 1024 * 1024,
  'galois-keys': 96 * 1024 * 1024,
  'wrapped-secret-key': 2 * 1024 * 1024,
};

export type EnvelopeErrorCode =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-kind'
  | 'bad-federation-id'
  | 'wrong-kind'
  | 'wrong-federation'
  | 'wrong-preset'
  | 'length-mismatch'
  | 'too-large';

export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;
  constructor(code: EnvelopeErrorCode, message: string) {
    super(`envelope ${code}: ${message}`);
    this.name = 'EnvelopeError';
    this.code = code;
  }
}

export interface Envelope {
  kind: EnvelopeKind;
  federationId: string;
  presetHash: Uint8Array;
  payload: Uint8Array;
}

export interface EnvelopeExpectation {
  kind?: EnvelopeKind;
  federationId?: string;
  presetHash?: Uint8Array;
  /** Cap on the whole envelope; defaults to DEFAULT_MAX_ENVELOPE_BYTES of the (expected or declared) kind. */
  maxBytes?: number;
}

const MAGIC_BYTES = new TextEncoder().encode(ENVELOPE_MAGIC);
const FIXED_HEADER_BYTES = 4 + 1 + 1 + 1 + PRESET_HASH_BYTES + 4;

function encodeFederationId(federationId: string): Uint8Array {
  const bytes = new TextEncoder().encode(federationId);
  if (bytes.length === 0 || bytes.length > MAX_FEDERATION_ID_BYTES) {
    throw new EnvelopeError(
      'bad-federation-id',
      `federation id must be 1..${MAX_FEDERATION_ID_BYTES} utf-8 bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

/** The first 8 bytes in hex, enough to tell two digests apart in an error message. */
function hexPrefix(bytes: Uint8Array): string {
  return `${toHex(bytes.subarray(0, 8))}…`;
}

/** Byte length of the header for a given federation id (useful for size budgets). */
export function envelopeHeaderBytes(federationId: string): number {
  return FIXED_HEADER_BYTES + encodeFederationId(federationId).length;
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const code = ENVELOPE_KIND_CODES[envelope.kind];
  if (code === undefined) throw new EnvelopeError('bad-kind', `unknown kind ${String(envelope.kind)}`);
  const fed = encodeFederationId(envelope.federationId);
  if (envelope.presetHash.length !== PRESET_HASH_BYTES) {
    throw new EnvelopeError('wrong-preset', `preset hash must be ${PRESET_HASH_BYTES} bytes, got ${envelope.presetHash.length}`);
  }
  const headerBytes = FIXED_HEADER_BYTES + fed.length;
  const out = new Uint8Array(headerBytes + envelope.payload.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  out[4] = ENVELOPE_VERSION;
  out[5] = code;
  out[6] = fed.length;
  out.set(fed, 7);
  out.set(envelope.presetHash, 7 + fed.length);
  view.setUint32(7 + fed.length + PRESET_HASH_BYTES, envelope.payload.length);
  out.set(envelope.payload, headerBytes);
  return out;
}

/**
 * Parses and checks an envelope. Every failure is an EnvelopeError whose code names the offending field; the
 * returned payload is a view into `bytes` (no copy).
 */
export function decodeEnvelope(bytes: Uint8Array, expect: EnvelopeExpectation = {}): Envelope {
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeError('truncated', 'envelope is not a Uint8Array');
  const preCap = expect.maxBytes ?? (expect.kind ? DEFAULT_MAX_ENVELOPE_BYTES[expect.kind] : undefined);
  if (preCap !== undefined && bytes.length > preCap) {
    throw new EnvelopeError('too-large', `envelope is ${bytes.length} bytes, cap is ${preCap}`);
  }
  if (bytes.length < 4) throw new EnvelopeError('truncated', `${bytes.length} bytes, magic needs 4`);
  if (!equalBytes(bytes.subarray(0, 4), MAGIC_BYTES)) {
    throw new EnvelopeError('bad-magic', `magic is ${hexPrefix(bytes.subarray(0, 4))}, expected '${ENVELOPE_MAGIC}'`);
  }
  if (bytes.length < 7) throw new EnvelopeError('truncated', `${bytes.length} bytes, header needs at least 7`);
  const version = bytes[4] as number;
  if (version !== ENVELOPE_VERSION) {
    throw new EnvelopeError('bad-version', `version ${version}, this build reads version ${ENVELOPE_VERSION}`);
  }
  const kind = KIND_BY_CODE.get(bytes[5] as number);
  if (kind === undefined) throw new EnvelopeError('bad-kind', `kind code ${bytes[5]} is not a known kind`);
  if (expect.kind !== undefined && kind !== expect.kind) {
    throw new EnvelopeError('wrong-kind', `envelope holds '${kind}', expected '${expect.kind}'`);
  }
  const cap = expect.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES[kind];
  if (bytes.length > cap) throw new EnvelopeError('too-large', `'${kind}' envelope is ${bytes.length} bytes, cap is ${cap}`);

  const fedLength = bytes[6] as number;
  if (fedLength === 0 || fedLength > MAX_FEDERATION_ID_BYTES) {
    throw new EnvelopeError('bad-federation-id', `federation id length ${fedLength} not in 1..${MAX_FEDERATION_ID_BYTES}`);
  }
  const headerBytes = FIXED_HEADER_BYTES + fedLength;
  if (bytes.length < headerBytes) {
    throw new EnvelopeError('truncated', `${bytes.length} bytes, header with a ${fedLength}-byte federation id needs ${headerBytes}`);
  }
  let federationId: string;
  try {
    federationId = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(7, 7 + fedLength));
  } catch {
    throw new EnvelopeError('bad-federation-id', 'federation id is not valid utf-8');
  }
  if (expect.federationId !== undefined && federationId !== expect.federationId) {
    throw new EnvelopeError('wrong-federation', `federation '${federationId}', expected '${expect.federationId}'`);
  }
  const presetHash = bytes.subarray(7 + fedLength, 7 + fedLength + PRESET_HASH_BYTES);
  if (expect.presetHash !== undefined && !equalBytes(presetHash, expect.presetHash)) {
    throw new EnvelopeError('wrong-preset', `preset hash ${hexPrefix(presetHash)}, expected ${hexPrefix(expect.presetHash)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const payloadLength = view.getUint32(7 + fedLength + PRESET_HASH_BYTES);
  if (headerBytes + payloadLength > cap) {
    throw new EnvelopeError('too-large', `declared payload of ${payloadLength} bytes exceeds the '${kind}' cap of ${cap}`);
  }
  const actual = bytes.length - headerBytes;
  if (actual < payloadLength) {
    throw new EnvelopeError('truncated', `payload has ${actual} bytes, header declares ${payloadLength}`);
  }
  if (actual > payloadLength) {
    throw new EnvelopeError('length-mismatch', `${actual - payloadLength} bytes after the declared ${payloadLength}-byte payload`);
  }
  if (payloadLength === 0) throw new EnvelopeError('truncated', 'payload is empty');
  return { kind, federationId, presetHash, payload: bytes.subarray(headerBytes) };
}
