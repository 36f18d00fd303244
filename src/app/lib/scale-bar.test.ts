import { describe, expect, it } from 'vitest';
import { scaleBar } from './scale-bar.ts';

describe('scaleBar', () => {
  it('picks the longest 1-2-5 length that fits and labels it in µm or mm', () => {
    // 0.25 µm/px at 1:1: 160 px = 40 µm, so 20 µm (80 px)
    expect(scaleBar(0.25)).toEqual({ px: 80, micrometres: 20, label: '20 µm' });
    // whole-slide view of a 40x slide at 1/16: 4 µm/px, 640 µm fits, 500 µm
    expect(scaleBar(4)).toEqual({ px: 125, micrometres: 500, label: '500 µm' });
    expect(scaleBar(10)?.label).toBe('1 mm');
    expect(scaleBar(40)?.label).toBe('5 mm');
    expect(scaleBar(0.0125)?.label).toBe('2 µm');
    expect(scaleBar(0.001)?.label).toBe('0.1 µm');
    expect(scaleBar(1, 100)).toEqual({ px: 100, micrometres: 100, label: '100 µm' });
  });

  it('draws nothing without a scale', () => {
    expect(scaleBar(0)).toBeNull();
    expect(scaleBar(Number.NaN)).toBeNull();
    expect(scaleBar(Number.POSITIVE_INFINITY)).toBeNull();
  });
});
