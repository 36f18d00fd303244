import { describe, expect, it } from 'vitest';
import { bagFromTokens } from './slide-bags.ts';
import type { StoredSlide, StoredSlideToken } from './slide-db.ts';

const token = (x: number, y: number, size0: number, value: number): StoredSlideToken => ({ fingerprint: 'f1', modelSha256: 'm', x, y, size0, token: Float32Array.of(value, value + 0.5) });
const slide: StoredSlide & { label: 'lung_aca' } = { fingerprint: 'f1', name: 'a.svs', savedAt: 1, label: 'lung_aca' };

describe('bagFromTokens', () => {
  it('gives the tokens with their coordinates in row order, one per tile', () => {
    const bag = bagFromTokens(slide, [token(64, 0, 64, 2), token(0, 64, 64, 3), token(0, 0, 64, 1)]);
    expect(bag?.id).toBe('f1');
    expect(bag?.label).toBe('lung_aca');
    expect(bag?.tiles).toEqual([{ x: 0, y: 0, size0: 64 }, { x: 64, y: 0, size0: 64 }, { x: 0, y: 64, size0: 64 }]);
    expect(bag?.tokens.map((t) => t[0])).toEqual([1, 2, 3]);
  });

  it('keeps one tile size: the last tiling’s when stored, else the most tokens', () => {
    const stored = [token(0, 0, 64, 1), token(64, 0, 64, 2), token(0, 0, 128, 9)];
    expect(bagFromTokens(slide, stored)?.tiles.map((t) => t.size0)).toEqual([64, 64]);
    expect(bagFromTokens({ ...slide, grid: { size0: 128, tiles: 4 } }, stored)?.tiles).toEqual([{ x: 0, y: 0, size0: 128 }]);
    expect(bagFromTokens({ ...slide, grid: { size0: 32, tiles: 4 } }, stored)?.tiles.length).toBe(2);
  });

  it('is null without tokens', () => {
    expect(bagFromTokens(slide, [])).toBeNull();
  });
});
