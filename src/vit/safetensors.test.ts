import { describe, expect, it } from 'vitest';
import { floatToHalfBits, readSafetensors, writeSafetensors } from './safetensors.ts';

const values = new Float32Array([0, -0, 1, -2.5, 0.1, 65504, 1e-7, -3.14159, 123.456]);

describe('safetensors', () => {
  it('round-trips F32 exactly and F16/BF16 within their precision', () => {
    for (const [dtype, tolerance] of [['F32', 0], ['F16', 1e-3], ['BF16', 8e-3]] as const) {
      const file = writeSafetensors([{ name: 'a.weight', shape: [3, 3], data: values }], dtype, { format: 'pt' });
      const { tensors, metadata } = readSafetensors(file);
      const tensor = tensors.get('a.weight');
      expect(metadata).toEqual({ format: 'pt' });
      expect(tensor?.dtype).toBe(dtype);
      expect(tensor?.shape).toEqual([3, 3]);
      tensor?.data.forEach((v, i) => {
        const want = values[i] as number;
        if (dtype === 'F16' && Math.abs(want) < 6e-5) expect(Math.abs(v - want)).toBeLessThan(6e-8);
        else expect(Math.abs(v - want)).toBeLessThanOrEqual(Math.abs(want) * tolerance);
      });
    }
  });

  it('rounds float16 to nearest even, saturates and keeps subnormals', () => {
    expect(floatToHalfBits(1)).toBe(0x3c00);
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(floatToHalfBits(70000)).toBe(0x7c00);
    expect(floatToHalfBits(2 ** -24)).toBe(0x0001);
    expect(floatToHalfBits(-(2 ** -14))).toBe(0x8400);
  });

  it('names the tensor when bytes and shape disagree, or the dtype is unsupported', () => {
    const file = writeSafetensors([{ name: 'x', shape: [2], data: new Float32Array([1, 2]) }], 'F32');
    const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(file.subarray(8, 8 + headerLength));
    const rewrite = (text: string) => {
      const bytes = new TextEncoder().encode(text.padEnd(headerLength, ' '));
      const copy = file.slice();
      copy.set(bytes, 8);
      return copy;
    };
    expect(() => readSafetensors(rewrite(header.replace('[2]', '[3]')))).toThrow(/tensor "x" holds 8 bytes but shape \[3\]/);
    expect(() => readSafetensors(rewrite(header.replace('"F32"', '"I64"')))).toThrow(/tensor "x" has dtype "I64"/);
    expect(() => readSafetensors(file.subarray(0, 20))).toThrow(/header length \d+ runs past the end/);
  });
});
