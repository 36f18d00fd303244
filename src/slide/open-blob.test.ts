// The browser's path to a slide, run in Node: a Blob read through geotiff's fromBlob (FileReader is the browser's;
// Node lacks it, so a minimal one over Blob.arrayBuffer stands in), and the slide worker's handlers behind the pool
// over loopback channels. Everything is checked against the Node reader on the same file.
import { openAsBlob, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestSlides } from '../../scripts/make-test-slides.ts';
import { loopbackPair } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { slideFingerprint } from './fingerprint.ts';
import { openSlideBlob } from './open-blob.ts';
import { openSlideFile } from './open-node.ts';
import { slidePoolSize, SlideWorkerPool } from './pool.ts';
import { tileGrid } from './tiling.ts';
import { detectTissue } from './tissue.ts';
import { slideHandlers } from './worker-host.ts';

class BlobFileReader {
  result: ArrayBuffer | null = null;
  onload: (() => void) | null = null;
  onerror: ((error: unknown) => void) | null = null;
  onabort: (() => void) | null = null;
  readAsArrayBuffer(blob: Blob): void {
    blob.arrayBuffer().then(
      (buffer) => {
        this.result = buffer;
        this.onload?.();
      },
      (error: unknown) => this.onerror?.(error),
    );
  }
  abort(): void {}
}

let dir = '';
let svs = '';
let pool: SlideWorkerPool;

beforeAll(async () => {
  (globalThis as { FileReader?: unknown }).FileReader ??= BlobFileReader;
  dir = mkdtempSync(join(tmpdir(), 'slide-blob-'));
  svs = (await makeTestSlides(dir, false, ['svs-ycbcr']))['svs-ycbcr'] as string;
  pool = new SlideWorkerPool(() => {
    const [client, worker] = loopbackPair();
    const stop = serveRpc(slideHandlers(), worker);
    return { channel: client, terminate: stop };
  }, 2);
}, 120_000);
afterAll(() => {
  pool?.terminate();
  rmSync(dir, { recursive: true, force: true });
});

const fileBlob = () => new Blob([readFileSync(svs)]);

describe('a slide read from a Blob', () => {
  it('has the properties, fingerprint and pixels the Node reader gives, reading a fraction of the file', async () => {
    const node = await openSlideFile(svs);
    const backing = await openAsBlob(svs);
    let bytesRead = 0;
    const counted = {
      size: backing.size,
      slice(start = 0, end = backing.size) {
        bytesRead += Math.min(end, backing.size) - start;
        return backing.slice(start, end);
      },
    } as unknown as Blob;
    const blob = await openSlideBlob(counted, 'svs-ycbcr.svs');
    expect(blob.slide.info).toEqual(node.slide.info);
    const tile = await blob.slide.readTileRgba(0, 5, 4);
    expect(tile.rgba).toEqual((await node.slide.readRegion(0, 5 * 240, 4 * 240, 240, 240)).rgba);
    // the header, the directories and one tile: far from the whole file
    expect(bytesRead).toBeLessThan(backing.size / 4);
    expect(await slideFingerprint(blob.slide, blob.head)).toBe(await slideFingerprint(node.slide, node.head));
  });

  it('refuses what is not a slide with the reader message', async () => {
    const dicom = new Blob([new Uint8Array(128), new TextEncoder().encode('DICM'), new Uint8Array(64)]);
    await expect(openSlideBlob(dicom, 'scan.dcm')).rejects.toThrow('scan.dcm: a DICOM file (DICOM WSI is not read here)');
  });
});

describe('the slide worker pool', () => {
  it('sizes itself from the cores, leaving one to the page', () => {
    expect([1, 2, 4, 8, 16].map(slidePoolSize)).toEqual([2, 2, 3, 4, 4]);
  });

  it('opens the file in every worker and decodes tiles as the Node reader does, edge tiles clipped', async () => {
    const info = await pool.open(fileBlob(), 'svs-ycbcr.svs');
    const { slide } = await openSlideFile(svs);
    expect(info).toEqual(slide.info);
    const tiles = await Promise.all([0, 1, 2, 3].map((col) => pool.tile({ level: 1, col, row: 2 })));
    for (const [col, tile] of tiles.entries()) {
      const ds = slide.info.levels[1]?.downsample ?? 0;
      const expected = await slide.readRegion(1, col * 240 * ds, 2 * 240 * ds, 240, 240);
      expect(tile.rgba).toEqual(expected.rgba);
    }
    const edge = await pool.tile({ level: 2, col: 0, row: 0 });
    expect([edge.width, edge.height]).toEqual([240, 180]);
    expect(await pool.fingerprint()).toBe(await slideFingerprint(slide, (await openSlideFile(svs)).head));
    await expect(pool.tile({ level: 0, col: 16, row: 0 })).rejects.toThrow('tile (16, 0) is outside level 0 (16 x 12 tiles)');
  });

  it('finds the tissue and the tile grid the Node reader finds, at the Otsu and at a chosen threshold', async () => {
    await pool.open(fileBlob(), 'svs-ycbcr.svs');
    const { slide } = await openSlideFile(svs);
    for (const threshold of [undefined, 30]) {
      const mask = await detectTissue(slide, threshold === undefined ? {} : { threshold });
      const expected = tileGrid(slide, mask, { mpp: 0.5, size: 32 });
      const result = await pool.tiling({ tissue: threshold === undefined ? {} : { threshold }, tiling: { mpp: 0.5, size: 32 } });
      expect(result.mask.tissueFraction).toBe(mask.tissueFraction);
      expect(result.mask.threshold).toBe(mask.threshold);
      expect(result.grid?.tiles).toEqual(expected.tiles);
      // the kept mask survives the reply (it is copied out, not moved)
      expect((await pool.tiling({ tissue: threshold === undefined ? {} : { threshold }, tiling: { mpp: 0.5, size: 224 } })).mask.data).toEqual(mask.data);
    }
    const [otsu, low] = await Promise.all([pool.tiling({ tissue: {}, tiling: null }), pool.tiling({ tissue: { threshold: 30 }, tiling: null })]);
    expect(low.mask.tissueFraction).toBeGreaterThan(otsu.mask.tissueFraction);
    expect(low.grid).toBeNull();
  });

  it('cancels a queued tile at once and keeps serving', async () => {
    await pool.open(fileBlob(), 'svs-ycbcr.svs');
    const controller = new AbortController();
    const queued = [0, 1, 2, 3, 4, 5].map((col) => pool.tile({ level: 0, col, row: 5 }, col === 5 ? controller.signal : undefined));
    controller.abort();
    await expect(queued[5]).rejects.toMatchObject({ name: 'AbortError' });
    await expect(Promise.all(queued.slice(0, 5))).resolves.toHaveLength(5);
    expect((await pool.gridTile({ tile: { x: 443, y: 443, size0: 443 }, size: 32 })).rgba.length).toBe(32 * 32 * 4);
  });

  it('rejects a refused file in every worker with the reader message', async () => {
    const notTiff = new Blob([new TextEncoder().encode('GIF89a and more')]);
    await expect(pool.open(notTiff, 'slide.gif')).rejects.toMatchObject({ name: 'SlideError', message: expect.stringContaining('slide.gif: not a TIFF file') });
    await expect(pool.tile({ level: 0, col: 0, row: 0 })).rejects.toThrow('no slide is open');
  });
});
