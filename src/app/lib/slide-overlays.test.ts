import { describe, expect, it } from 'vitest';
import { maskOutline } from './slide-overlays.ts';

const segments = (outline: Float32Array): number[][] => Array.from({ length: outline.length / 4 }, (_, i) => Array.from(outline.subarray(i * 4, i * 4 + 4)));

describe('maskOutline', () => {
  it('outlines a block of tissue with one run per side', () => {
    // 4 x 3 mask, tissue in the 2 x 2 block at (1, 0)
    const data = Uint8Array.from([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(segments(maskOutline({ width: 4, height: 3, data }))).toEqual([
      [1, 0, 3, 0],
      [1, 2, 3, 2],
      [1, 0, 1, 2],
      [3, 0, 3, 2],
    ]);
  });

  it('closes tissue at the mask border and outlines holes', () => {
    const data = Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    const outline = segments(maskOutline({ width: 3, height: 3, data }));
    // outer square (4 runs of 3) and the hole (4 runs of 1)
    expect(outline).toHaveLength(8);
    expect(outline).toContainEqual([0, 0, 3, 0]);
    expect(outline).toContainEqual([1, 1, 2, 1]);
    expect(outline).toContainEqual([2, 1, 2, 2]);
    expect(maskOutline({ width: 2, height: 2, data: new Uint8Array(4) })).toHaveLength(0);
  });
});
