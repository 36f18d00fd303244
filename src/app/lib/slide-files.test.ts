import { describe, expect, it } from 'vitest';
import { isSlideFile } from './slide-files.ts';

/** A TIFF header and a first directory (placed after `gap` bytes) holding the given tags, in either byte order. */
function tiff(tags: number[], little = true, gap = 0): Blob {
  const offset = 8 + gap;
  const view = new DataView(new ArrayBuffer(offset + 2 + 12 * tags.length + 4));
  view.setUint16(0, little ? 0x4949 : 0x4d4d);
  view.setUint16(2, 42, little);
  view.setUint32(4, offset, little);
  view.setUint16(offset, tags.length, little);
  tags.forEach((tag, i) => view.setUint16(offset + 2 + 12 * i, tag, little));
  return new Blob([view.buffer]);
}

describe('isSlideFile', () => {
  it('sends scanner formats to the slide reader by name, whatever their bytes', async () => {
    for (const name of ['a.svs', 'b.NDPI', 'c.dcm', 'd.jp2', 'e.mrxs']) expect(await isSlideFile(name, new Blob(['x']))).toBe(true);
    for (const name of ['a.png', 'b.jpg', 'c.csv', 'noextension']) expect(await isSlideFile(name, tiff([256, 322]))).toBe(false);
  });

  it('takes a TIFF as a slide when its first directory is tiled or it is a BigTIFF, else as a tile', async () => {
    expect(await isSlideFile('pyramid.tif', tiff([256, 257, 322, 323]))).toBe(true);
    expect(await isSlideFile('pyramid.TIFF', tiff([256, 322], false, 5000))).toBe(true);
    expect(await isSlideFile('strip.tif', tiff([256, 257, 273, 279]))).toBe(false);
    const big = new DataView(new ArrayBuffer(16));
    big.setUint16(0, 0x4949);
    big.setUint16(2, 43, true);
    expect(await isSlideFile('big.tif', new Blob([big.buffer]))).toBe(true);
    expect(await isSlideFile('short.tif', new Blob(['II*']))).toBe(false);
    expect(await isSlideFile('broken.tif', new Blob(['II*\0\xff\xff\xff\x0f']))).toBe(false);
  });
});
