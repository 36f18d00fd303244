// `npm run slide` end to end: a real slide written by make-test-slides, the real reader, the tiny model on tfjs wasm.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSlideFile } from '../src/slide/open-node.ts';
import { readGridTile } from '../src/slide/tiling.ts';
import { embedRgbaImages } from '../src/vit/extract.ts';
import { VitModel } from '../src/vit/model.ts';
import { readModelDir, useNodeWasmBackend } from '../src/vit/node-io.ts';

const root = join(import.meta.dirname, '..');
const tinyModel = join(root, 'public', 'models', 'tiny');
let dir = '';
let svs = '';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'slide.ts'), ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'slide-cli-'));
  const made = spawnSync(process.execPath, [join(root, 'scripts', 'make-test-slides.ts'), dir, '--only', 'svs-ycbcr'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  svs = join(dir, 'svs-ycbcr.svs');
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run slide', () => {
  it('info --json: size, MPP, objective, vendor, levels, associated images and the fingerprint', () => {
    const run = cli('info', svs, '--json');
    expect(run.status, run.stderr).toBe(0);
    const info = JSON.parse(run.stdout) as Record<string, unknown>;
    const fixture = JSON.parse(readFileSync(join(root, 'src', 'slide', 'fixtures', 'svs-ycbcr.json'), 'utf8')) as { levels: unknown[] };
    expect(info).toMatchObject({ width: 3840, height: 2880, vendor: 'aperio', mpp: { x: 0.2527, y: 0.2527 }, objectivePower: 40 });
    expect((info.levels as { width: number; height: number; downsample: number }[]).map(({ width, height, downsample }) => ({ width, height, downsample }))).toEqual(fixture.levels);
    expect((info.associated as { name: string }[]).map((a) => a.name)).toEqual(['label', 'macro', 'thumbnail']);
    expect(info.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('region writes the PNG the reader reads', async () => {
    const out = join(dir, 'region.png');
    const run = cli('region', svs, '--level', '1', '--x', '960', '--y', '960', '--width', '100', '--height', '80', '--out', out);
    expect(run.status, run.stderr).toBe(0);
    const png = PNG.sync.read(readFileSync(out));
    const { slide } = await openSlideFile(svs);
    const region = await slide.readRegion(1, 960, 960, 100, 80);
    expect([png.width, png.height]).toEqual([100, 80]);
    expect(Buffer.from(png.data).equals(Buffer.from(region.rgba))).toBe(true);
  });

  it('tiles --json lists tissue tiles in level-0 pixels with the mask summary', () => {
    const run = cli('tiles', svs, '--json', '--mpp', '0.5', '--size', '224', '--min-tissue', '0.5');
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { count: number; size0: number; tiles: { x: number; y: number; size0: number }[]; mask: { tissueFraction: number } };
    expect(out.size0).toBe(443);
    expect(out.count).toBe(out.tiles.length);
    expect(out.count).toBeGreaterThan(0);
    expect(out.mask.tissueFraction).toBeGreaterThan(0);
    for (const t of out.tiles) expect(t.x % 443 === 0 && t.y % 443 === 0 && t.size0 === 443).toBe(true);
    const loose = JSON.parse(cli('tiles', svs, '--json', '--min-tissue', '0.1').stdout) as { count: number };
    expect(loose.count).toBeGreaterThan(out.count);
  });

  it('tiles --threshold sets the mask threshold in place of Otsu, and refuses one outside 0..255', () => {
    const otsu = JSON.parse(cli('tiles', svs, '--json').stdout) as { count: number; mask: { threshold: number; tissueFraction: number } };
    const low = JSON.parse(cli('tiles', svs, '--json', '--threshold', String(otsu.mask.threshold - 40)).stdout) as typeof otsu;
    expect(low.mask.threshold).toBe(otsu.mask.threshold - 40);
    expect(low.mask.tissueFraction).toBeGreaterThan(otsu.mask.tissueFraction);
    const bad = cli('tiles', svs, '--threshold', '300');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--threshold must be a saturation from 0 to 255, got 300');
  });

  it('embed --json gives the tokens the model gives for the same tiles', async () => {
    const run = cli('embed', svs, '--model', tinyModel, '--limit', '3', '--json');
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { tiles: { x: number; y: number; size0: number; token: number[] }[] };
    expect(out.tiles).toHaveLength(3);
    await useNodeWasmBackend();
    const { config, processor, weights } = await readModelDir(tinyModel);
    const model = VitModel.create(config, weights);
    const { slide } = await openSlideFile(svs);
    const images = await Promise.all(out.tiles.map((t) => readGridTile(slide, t, processor.size)));
    const tokens = await embedRgbaImages(model, processor, images, 3);
    model.dispose();
    out.tiles.forEach((t, i) => {
      expect(t.token).toHaveLength(config.hidden_size);
      t.token.forEach((v, k) => expect(v).toBeCloseTo(tokens[i]?.[k] ?? NaN, 5));
    });
    expect(out.tiles[0]?.token).not.toEqual(out.tiles[1]?.token);
  });

  it('a bad file exits 2 naming it; bad arguments exit 2 with the usage', () => {
    const junk = join(dir, 'junk.svs');
    writeFileSync(junk, 'this is not a slide at all, just some text');
    const bad = cli('info', junk);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^slide: junk\.svs: not a TIFF file/);
    const missing = cli('tiles', join(dir, 'gone.svs'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/gone\.svs: cannot read the file/);
    const usage = cli('region', svs, '--level', '0');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--out <png> is required[\s\S]*usage:/);
    expect(cli('frobnicate', svs).status).toBe(2);
  });
});
