import { describe, expect, it } from 'vitest';
import { BundleError, decodeBundle, encodeBundle } from './bundle.ts';

const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(1000).fill(7)];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof BundleError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('bundle framing', () => {
  it('round-trips parts byte for byte', () => {
    const decoded = decodeBundle(encodeBundle(parts));
    expect(decoded.map((p) => Array.from(p))).toEqual(parts.map((p) => Array.from(p)));
  });

  it('rejects every truncation with a specific error', () => {
    const bytes = encodeBundle(parts);
    for (let cut = 0; cut < bytes.byteLength; cut++) {
      expect(['truncated', 'empty']).toContain(codeOf(() => decodeBundle(bytes.subarray(0, cut))));
    }
  });

  it('rejects wrong magic, trailing bytes and absurd counts', () => {
    const bytes = encodeBundle(parts);
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0x58;
    expect(codeOf(() => decodeBundle(wrongMagic))).toBe('bad-magic');
    const trailing = new Uint8Array(bytes.byteLength + 1);
    trailing.set(bytes);
    expect(codeOf(() => decodeBundle(trailing))).toBe('trailing-bytes');
    const manyParts = bytes.slice();
    new DataView(manyParts.buffer).setUint32(4, 1_000_000, true);
    expect(codeOf(() => decodeBundle(manyParts))).toBe('too-many-parts');
  });
});
