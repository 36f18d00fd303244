import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from './image.ts';
import { imageMetrics, metricFromJson, metricsToJson, type JsonMetric } from './metrics.ts';
import { nmi } from './nmi.ts';
import { decodePng, encodePng, readPng } from './png.ts';
import { psnr } from './psnr.ts';
import { ssim } from './ssim.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

interface ExpectedPair {
  a: string;
  b: string;
  psnr: JsonMetric;
  ssim: number;
  nmi: number;
}
// Written by scripts/privacy-reference.py from scikit-image 0.19.3 (Debian python3-skimage).
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, ExpectedPair>;

function image(width: number, height: number, value: (i: number) => number): RgbImage {
  return { width, height, channels: 3, data: Uint8Array.from({ length: width * height * 3 }, (_, i) => value(i)) };
}

describe('metrics agree with scikit-image on the committed pairs', () => {
  it('covers the pair kinds the issue asks for', () => {
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(['noise-low', 'noise-high', 'blur', 'shift', 'constant', 'identical']));
  });
  for (const [name, pair] of Object.entries(expected)) {
    it(name, () => {
      const a = readPng(join(FIXTURES, pair.a));
      const b = readPng(join(FIXTURES, pair.b));
      const m = imageMetrics(a, b);
      const refPsnr = metricFromJson(pair.psnr);
      if (Number.isFinite(refPsnr)) expect(Math.abs(m.psnr - refPsnr)).toBeLessThan(0.01);
      else expect(m.psnr).toBe(refPsnr);
      expect(Math.abs(m.ssim - pair.ssim)).toBeLessThan(1e-3);
      expect(Math.abs(m.nmi - pair.nmi)).toBeLessThan(1e-3);
    });
  }
});

describe('metric properties', () => {
  const a = image(24, 20, (i) => (i * 37) % 251);
  const b = image(24, 20, (i) => (i * 53 + 11) % 241);

  it('are symmetric in their arguments', () => {
    expect(psnr(a, b)).toBeCloseTo(psnr(b, a), 12);
    expect(ssim(a, b)).toBeCloseTo(ssim(b, a), 12);
    expect(nmi(a, b)).toBeCloseTo(nmi(b, a), 12);
  });

  it('give the perfect scores for identical images, also as float data', () => {
    const floatCopy: RgbImage = { ...a, data: Float32Array.from(a.data) };
    expect(imageMetrics(a, floatCopy)).toEqual({ psnr: Infinity, ssim: 1, nmi: 1 });
  });

  it('PSNR follows 10·log10(255²/MSE) and honours dataRange', () => {
    const shifted = image(24, 20, (i) => a.data[i]! + (a.data[i]! < 128 ? 4 : -4));
    expect(psnr(a, shifted)).toBeCloseTo(10 * Math.log10((255 * 255) / 16), 10);
    expect(psnr(a, shifted, 1)).toBeCloseTo(10 * Math.log10(1 / 16), 10);
  });

  it('NMI is 0 against a constant image and 1 for two constant images (0/0 by convention)', () => {
    const flat = image(24, 20, () => 90);
    expect(nmi(a, flat)).toBe(0);
    expect(nmi(flat, image(24, 20, () => 3))).toBe(1);
  });

  it('NMI is invariant to a bijective remapping of values (it measures dependence, not closeness)', () => {
    // Ten levels far apart, so each level has its own bin before and after inversion.
    const levels = image(24, 20, (i) => 25 * ((i * 7) % 10));
    const inverted = image(24, 20, (i) => 225 - levels.data[i]!);
    expect(nmi(levels, inverted)).toBeCloseTo(1, 12);
    expect(psnr(levels, inverted)).toBeLessThan(10);
  });

  it('reject mismatched or malformed images with precise messages', () => {
    expect(() => psnr(a, image(20, 24, () => 0))).toThrow('image sizes differ: first is 24x20, second is 20x24');
    expect(() => nmi(a, { width: 24, height: 20, channels: 3, data: new Uint8Array(10) })).toThrow(
      'second image: data has 10 values, expected 24x20x3 = 1440',
    );
    expect(() => ssim(image(10, 30, () => 0), image(10, 30, () => 0))).toThrow('smaller than the 11x11 Gaussian window');
  });

  it('serialise PSNR Infinity as the string "Infinity" and read it back', () => {
    const json = metricsToJson({ psnr: Infinity, ssim: 1, nmi: 1 });
    expect(json).toBe('{"psnr":"Infinity","ssim":1,"nmi":1}');
    expect(metricFromJson((JSON.parse(json) as { psnr: JsonMetric }).psnr)).toBe(Infinity);
  });
});

describe('PNG helpers', () => {
  it('round-trip RGB pixels', () => {
    const a = image(5, 3, (i) => (i * 29) % 256);
    expect(decodePng(encodePng(a), 'round trip')).toEqual(a);
  });

  it('expand greyscale to RGB and drop alpha', () => {
    const png = new PNG({ width: 2, height: 1 });
    png.data = Buffer.from([10, 20, 30, 0, 40, 50, 60, 128]);
    const decodedRgba = decodePng(PNG.sync.write(png, { colorType: 6 }), 'rgba');
    expect(Array.from(decodedRgba.data)).toEqual([10, 20, 30, 40, 50, 60]);
    png.data = Buffer.from([7, 7, 7, 255, 9, 9, 9, 255]);
    const decodedGrey = decodePng(PNG.sync.write(png, { colorType: 0 }), 'grey');
    expect(Array.from(decodedGrey.data)).toEqual([7, 7, 7, 9, 9, 9]);
  });

  it('refuse 16-bit and non-PNG input', () => {
    const png = new PNG({ width: 1, height: 1 });
    png.data = Buffer.from([1, 2, 3, 255]);
    expect(() => decodePng(PNG.sync.write(png, { bitDepth: 16 }), 'deep.png')).toThrow('deep.png: 16-bit PNGs are not supported');
    expect(() => decodePng(new TextEncoder().encode('{"json":1}'), 'x.json')).toThrow('x.json: not a PNG file');
  });
});

describe('npm run privacy:metrics', () => {
  const script = join(import.meta.dirname, '../../scripts/privacy-metrics.ts');
  const fixture = (name: string) => join(FIXTURES, name);
  const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

  it('prints the three metrics as one JSON line', () => {
    const out = execFileSync(process.execPath, [script, fixture('identical-a.png'), fixture('identical-b.png')], { encoding: 'utf8' });
    expect(out).toBe('{"psnr":"Infinity","ssim":1,"nmi":1}\n');
    const blur = JSON.parse(execFileSync(process.execPath, [script, fixture('blur-a.png'), fixture('blur-b.png')], { encoding: 'utf8' })) as ExpectedPair;
    expect(blur.psnr).toBeCloseTo(metricFromJson(expected.blur!.psnr), 2);
  });

  it('exits 2 with a precise message on bad input', () => {
    const cases: [string[], string][] = [
      [[fixture('blur-a.png')], 'expected 2 PNG paths, got 1'],
      [[fixture('missing.png'), fixture('blur-b.png')], 'missing.png: cannot read file (no such file)'],
      [[fixture('expected.json'), fixture('blur-b.png')], 'expected.json: not a PNG file'],
      [[fixture('blur-a.png'), fixture('shift-a.png')], 'image sizes differ: first is 64x64, second is 40x56'],
    ];
    for (const [args, message] of cases) {
      const result = run(...args);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
    }
  });
});
