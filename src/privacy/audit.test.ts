import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cropTopLeft, imageGrid, type AuditReport } from './audit.ts';
import { readPng } from './png.ts';
import { syntheticTile } from './synthetic-tiles.ts';

const root = join(import.meta.dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'cipherpath-audit-'));
let stdout = '';

beforeAll(async () => {
  // The CLI as `npm run audit` runs it, on the pinned Node 24 (node-seal 7 needs it).
  const result = await promisify(execFile)(join(root, 'node_modules', '.bin', 'node'), ['scripts/audit.ts', '--quick', '--json', '--out', out], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  stdout = result.stdout;
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

const isMetric = (v: unknown) => typeof v === 'number' || v === 'Infinity';

describe('npm run audit -- --quick --json', () => {
  it('prints the audit.json it writes, with every field the Privacy page reads', () => {
    const report = JSON.parse(stdout) as AuditReport;
    expect(JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8'))).toEqual(report);
    expect(Number.isNaN(Date.parse(report.generatedAt))).toBe(false);
    expect(report.quick).toBe(true);
    expect(isMetric(report.meanGuess.psnr) && typeof report.meanGuess.ssim === 'number' && typeof report.meanGuess.nmi === 'number').toBe(true);
    expect(report.scenarios.map((s) => s.id)).toEqual([
      'gradient-analytic',
      'gradient-matching-16px',
      'insider-token-decoder',
      'coordinator-ciphertexts',
      'abmil-update-clear',
      'abmil-update-ciphertexts',
      'mean-guess',
    ]);
    for (const s of report.scenarios) {
      for (const key of ['id', 'title', 'meaning', 'target', 'details'] as const) expect(typeof s[key] === 'string' && s[key].length > 0).toBe(true);
      expect(isMetric(s.psnr)).toBe(true);
      expect(s.ssim).toBeGreaterThanOrEqual(-1);
      expect(s.ssim).toBeLessThanOrEqual(1);
      expect(s.nmi).toBeGreaterThanOrEqual(0);
      expect(s.nmi).toBeLessThanOrEqual(1);
      expect(s.lpips).toBe('unavailable');
      const original = readPng(join(out, s.images.original));
      const reconstruction = readPng(join(out, s.images.reconstruction));
      expect([reconstruction.width, reconstruction.height]).toEqual([original.width, original.height]);
    }
    expect(report.lpipsNote).toContain('no AlexNet-LPIPS weights');
  });

  it('shows the threat and the protection even in the quick run', () => {
    const report = JSON.parse(stdout) as AuditReport;
    const psnrOf = (id: string) => Number(report.scenarios.find((s) => s.id === id)!.psnr);
    const meanGuess = Number(report.meanGuess.psnr);
    expect(psnrOf('gradient-analytic')).toBeGreaterThanOrEqual(40);
    expect(psnrOf('insider-token-decoder')).toBeGreaterThan(meanGuess + 1);
    expect(Math.abs(psnrOf('coordinator-ciphertexts') - meanGuess)).toBeLessThanOrEqual(1);
    // A clear slide-level update gives tiles away; its ciphertexts do not.
    expect(psnrOf('abmil-update-clear')).toBeGreaterThan(meanGuess + 1);
    expect(Math.abs(psnrOf('abmil-update-ciphertexts') - meanGuess)).toBeLessThanOrEqual(1);
    expect(psnrOf('mean-guess')).toBe(meanGuess);
  });
});

describe('audit image helpers', () => {
  it('lays images out in rows and crops the top-left corner', () => {
    const tiles = [1, 2, 3].map((seed) => syntheticTile(seed, 4));
    const grid = imageGrid(tiles, 2);
    expect([grid.width, grid.height]).toEqual([8, 8]);
    expect(grid.data[(4 * 8 + 0) * 3]).toBe(tiles[2]!.data[0]); // third tile starts the second row
    expect(grid.data[(4 * 8 + 4) * 3]).toBe(255); // the empty cell is white
    const crop = cropTopLeft(tiles[0]!, 2);
    expect(Array.from(crop.data.subarray(6, 12))).toEqual(Array.from(tiles[0]!.data.subarray(12, 18)));
    expect(() => imageGrid([syntheticTile(1, 4), syntheticTile(1, 5)], 2)).toThrow('image 1 is 5x5, image 0 is 4x4');
    expect(() => cropTopLeft(tiles[0]!, 5)).toThrow('5 px crop of a 4x4 image');
  });
});
