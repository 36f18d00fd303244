import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { readImageFile } from './node-io.ts';

const scratch = await mkdtemp(join(tmpdir(), 'vit-node-io-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('readImageFile', () => {
  it('decodes PNG and JPEG by signature, whatever the file name', async () => {
    const png = await readImageFile(new URL('fixtures/images/a.png', import.meta.url).pathname);
    expect([png.width, png.height, png.rgba.length]).toEqual([64, 48, 64 * 48 * 4]);
    const encoded = jpeg.encode({ data: Buffer.from(png.rgba), width: png.width, height: png.height }, 95);
    const path = join(scratch, 'tile.png'); // a JPEG under a misleading name
    await writeFile(path, encoded.data);
    const decoded = await readImageFile(path);
    expect([decoded.width, decoded.height]).toEqual([64, 48]);
    let totalError = 0;
    for (let i = 0; i < decoded.rgba.length; i++) if (i % 4 !== 3) totalError += Math.abs((decoded.rgba[i] as number) - (png.rgba[i] as number));
    const meanError = totalError / (64 * 48 * 3);
    expect(meanError).toBeLessThan(8);
  });

  it('names the file it cannot read as an image', async () => {
    const path = join(scratch, 'notes.txt');
    await writeFile(path, 'not an image');
    await expect(readImageFile(path)).rejects.toThrow(`image ${path}: not a PNG or JPEG file`);
    const truncated = join(scratch, 'broken.png');
    await writeFile(truncated, (await readFile(new URL('fixtures/images/a.png', import.meta.url))).subarray(0, 100));
    await expect(readImageFile(truncated)).rejects.toThrow(`image ${truncated}: cannot decode`);
  });
});
