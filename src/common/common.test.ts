import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './base64.ts';
import { bytesEqual } from './bytes-equal.ts';
import { formatBytes, formatDecimalBytes } from './format-bytes.ts';
import { fromHex, toHex } from './hex.ts';
import { mulberry32 } from './mulberry32.ts';
import { sha256Hex, sha256Stream } from './sha256.ts';
import { wipe } from './wipe.ts';

const bytes = Uint8Array.from({ length: 200_003 }, (_, i) => (i * 131 + 7) & 0xff);

describe('common helpers', () => {
  it('hex and base64 round-trip and agree with Node', () => {
    expect(toHex(bytes.subarray(0, 5))).toBe(Buffer.from(bytes.subarray(0, 5)).toString('hex'));
    expect(Array.from(fromHex(toHex(bytes.subarray(0, 999))))).toEqual(Array.from(bytes.subarray(0, 999)));
    expect(() => fromHex('abc')).toThrow(/whole bytes/);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(bytesEqual(fromBase64(toBase64(bytes)), bytes)).toBe(true);
    expect(() => fromBase64('**')).toThrow(/base64/);
  });

  it('sha256 agrees with node:crypto, whole and streamed', () => {
    const expected = createHash('sha256').update(bytes).digest('hex');
    expect(sha256Hex(bytes)).toBe(expected);
    const stream = sha256Stream();
    stream.update(bytes.subarray(0, 1000));
    stream.update(bytes.subarray(1000));
    expect(stream.digestHex()).toBe(expected);
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('bytesEqual, wipe, mulberry32, formatBytes and formatDecimalBytes', () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
    const secret = new Float64Array([1.5, -2]);
    wipe(secret, null);
    expect(Array.from(secret)).toEqual([0, 0]);
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 5 }, () => a());
    expect(draws).toEqual(Array.from({ length: 5 }, () => b()));
    expect(draws.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(32 * 2 ** 20)).toBe('32 MiB');
    expect(formatBytes(64_545)).toBe('63.0 KiB');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatDecimalBytes(999)).toBe('999 B');
    expect(formatDecimalBytes(326_000)).toBe('326 kB');
    expect(formatDecimalBytes(64_545)).toBe('64.5 kB');
    expect(formatDecimalBytes(1_200_000)).toBe('1.20 MB');
    expect(formatDecimalBytes(51_793_500, { fractionDigits: 0 })).toBe('52 MB');
  });
});
