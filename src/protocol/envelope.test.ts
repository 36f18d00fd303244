import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  ENVELOPE_KIND_CODES,
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  envelopeHeaderBytes,
} from './envelope.ts';
import type { EnvelopeKind } from './envelope.ts';

const presetA = new Uint8Array(32).fill(0xa1);
const presetB = new Uint8Array(32).fill(0xb2);
const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
const valid = encodeEnvelope({ kind: 'ciphertext', federationId: 'fed-ü', presetHash: presetA, payload });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EnvelopeError);
    return (e as EnvelopeError).code;
  }
  return 'accepted';
}

describe('envelope', () => {
  it('round-trips every kind with a utf-8 federation id', () => {
    for (const kind of Object.keys(ENVELOPE_KIND_CODES) as EnvelopeKind[]) {
      const bytes = encodeEnvelope({ kind, federationId: 'fed-ü', presetHash: presetA, payload });
      expect(bytes.length).toBe(envelopeHeaderBytes('fed-ü') + payload.length);
      const back = decodeEnvelope(bytes, { kind, federationId: 'fed-ü', presetHash: presetA });
      expect(back.kind).toBe(kind);
      expect(back.federationId).toBe('fed-ü');
      expect(back.presetHash).toEqual(presetA);
      expect(back.payload).toEqual(payload);
    }
  });

  it('names the offending field', () => {
    expect(codeOf(() => decodeEnvelope(valid, { federationId: 'fed-u' }))).toBe('wrong-federation');
    expect(codeOf(() => decodeEnvelope(valid, { presetHash: presetB }))).toBe('wrong-preset');
    expect(codeOf(() => decodeEnvelope(valid, { kind: 'galois-keys' }))).toBe('wrong-kind');
    expect(codeOf(() => decodeEnvelope(valid.subarray(0, valid.length - 1)))).toBe('truncated');
    expect(codeOf(() => decodeEnvelope(valid.subarray(0, 10)))).toBe('truncated');
    expect(codeOf(() => decodeEnvelope(new Uint8Array(0)))).toBe('truncated');
    const trailing = new Uint8Array(valid.length + 1);
    trailing.set(valid);
    expect(codeOf(() => decodeEnvelope(trailing))).toBe('length-mismatch');
    expect(codeOf(() => decodeEnvelope(Uint8Array.of(0x50, 0x4b, 3, 4, 1, 1, 1)))).toBe('bad-magic');
    const v2 = valid.slice();
    v2[4] = 2;
    expect(codeOf(() => decodeEnvelope(v2))).toBe('bad-version');
    const k99 = valid.slice();
    k99[5] = 99;
    expect(codeOf(() => decodeEnvelope(k99))).toBe('bad-kind');
    const badUtf8 = valid.slice();
    badUtf8[7] = 0xff;
    expect(codeOf(() => decodeEnvelope(badUtf8))).toBe('bad-federation-id');
    expect(codeOf(() => decodeEnvelope(valid, { maxBytes: 100 }))).toBe('too-large');
  });

  it('rejects a declared payload over the cap before reading it', () => {
    const header = valid.slice(0, envelopeHeaderBytes('fed-ü'));
    new DataView(header.buffer).setUint32(header.length - 4, 0xffffffff);
    expect(codeOf(() => decodeEnvelope(header))).toBe('too-large');
    const big = new Uint8Array(DEFAULT_MAX_ENVELOPE_BYTES.ciphertext + 1);
    expect(codeOf(() => decodeEnvelope(big, { kind: 'ciphertext' }))).toBe('too-large');
  });

  it('refuses to encode an empty or oversized federation id', () => {
    expect(codeOf(() => encodeEnvelope({ kind: 'ciphertext', federationId: '', presetHash: presetA, payload }))).toBe(
      'bad-federation-id',
    );
    expect(
      codeOf(() => encodeEnvelope({ kind: 'ciphertext', federationId: 'x'.repeat(129), presetHash: presetA, payload })),
    ).toBe('bad-federation-id');
  });
});
