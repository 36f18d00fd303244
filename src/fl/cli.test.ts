// scripts/simulate.ts: flag parsing with precise errors (exit code 2), and one --json run end to end through the
// coordinator it starts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError, parseArgs } from '../../scripts/simulate.ts';

const script = new URL('../../scripts/simulate.ts', import.meta.url).pathname;
const run = (args: string[]) => promisify(execFile)(process.execPath, [script, ...args], { maxBuffer: 16 * 1024 * 1024 });

describe('simulate CLI', () => {
  it('parses the issue flags and rejects bad ones precisely', () => {
    const { json, simulation } = parseArgs(['--clinics', '3', '--rounds', '10', '--strategy', 'all', '--domain', 'encrypted', '--split', 'label-skew', '--json']);
    expect(json).toBe(true);
    expect(simulation).toMatchObject({ clinics: 3, rounds: 10, split: 'label-skew', domains: ['encrypted'], strategies: ['fedavg-head', 'prototypes', 'ridge'] });
    expect(parseArgs(['--strategy=ridge']).simulation.strategies).toEqual(['ridge']);
    expect(parseArgs(['--coordinator', 'http://a:1,http://b:2/', '--admin-token', 'x'.repeat(16)]).replicas).toEqual({ urls: ['http://a:1', 'http://b:2'], adminToken: 'x'.repeat(16) });
    const bad: [string[], string][] = [
      [['--strategy', 'sgd'], "--strategy must be one of fedavg-head, prototypes, ridge, all; got 'sgd'"],
      [['--domain', 'he'], "--domain must be one of unencrypted, encrypted, gradient-encryption, all; got 'he'"],
      [['--split', 'all'], "--split must be one of iid, label-skew, quantity-skew; got 'all'"],
      [['--clinics', '0'], "--clinics must be an integer in 1..100, got '0'"],
      [['--rounds', '2.5'], "--rounds must be an integer in 1..1000, got '2.5'"],
      [['--rounds'], '--rounds needs a value'],
      [['--rounds', '--json'], '--rounds needs a value'],
      [['--json', '--json'], '--json is given twice'],
      [['--fast'], "unknown option '--fast'"],
      [['--clinics', '40', '--train-per-class', '100'], '--train-per-class 100 gives 300 tokens, too few for 40 clinics (20 each)'],
      [['--coordinator', 'http://a:1'], "--coordinator needs --admin-token (the replicas' ADMIN_TOKEN) to create its federations"],
      [['--admin-token', 'x'.repeat(16)], '--admin-token applies to --coordinator only'],
      [['--coordinator', 'http://a:1', '--admin-token', 'short'], "--admin-token must be 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-' (the coordinator's ADMIN_TOKEN)"],
      [['--coordinator', 'http://a:1', '--admin-token', 'x'.repeat(16), '--aggregator', 'in-process'], '--coordinator and --aggregator in-process exclude each other'],
    ];
    for (const [args, message] of bad) expect(() => parseArgs(args), args.join(' ')).toThrow(new UsageError(message));
  });

  it('parses --level slide and its flags (node:util parseArgs tokens, our messages)', () => {
    const cli = parseArgs(['--level', 'slide', '--strategy', 'all', '--domain', 'all', '--split', 'label-skew', '--dim=1536', '--signal-fraction', '0.1', '--json']);
    expect(cli.level).toBe('slide');
    expect(cli.slides).toMatchObject({ strategies: ['mean-pool', 'abmil'], split: 'label-skew', dim: 1536, signalFraction: 0.1 });
    expect(parseArgs(['--level', 'slide', '--strategy', 'abmil']).slides?.strategies).toEqual(['abmil']);
    const bad: [string[], string][] = [
      [['--level', 'slide', '--strategy', 'ridge'], "--strategy must be one of mean-pool, abmil, all; got 'ridge'"],
      [['--level', 'bag'], "--level must be one of tile, slide; got 'bag'"],
      [['--signal-fraction', '0.1'], '--signal-fraction applies to --level slide only'],
      [['--level', 'slide', '--signal-fraction', '1.5'], "--signal-fraction must be a number in (0, 1], got '1.5'"],
      [['--dim', '0'], "--dim must be an integer in 1..4096, got '0'"],
      [['extra'], "unexpected argument 'extra'"],
    ];
    for (const [args, message] of bad) expect(() => parseArgs(args), args.join(' ')).toThrow(new UsageError(message));
  });

  it('exits with code 2 and the message on a bad flag', async () => {
    await expect(run(['--strategy', 'sgd'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("simulate: --strategy must be one of") });
  });

  it('prints one JSON document with every run, through a real coordinator', async () => {
    const { stdout } = await run(['--clinics', '3', '--rounds', '2', '--strategy', 'all', '--domain', 'all', '--split', 'iid', '--train-per-class', '40', '--test-per-class', '30', '--json']);
    const doc = JSON.parse(stdout) as { runs: { strategy: string; domain: string; split: string; finalAccuracy: number; rounds: { round: number; accuracy: number; bytesUpPerClinic: number; bytesDownPerClinic: number }[] }[] };
    expect(doc.runs.map((r) => `${r.strategy}/${r.domain}`)).toEqual([
      'fedavg-head/unencrypted',
      'fedavg-head/encrypted',
      'prototypes/unencrypted',
      'prototypes/encrypted',
      'ridge/unencrypted',
      'ridge/encrypted',
      'fedavg-head/gradient-encryption',
    ]);
    for (const r of doc.runs) {
      expect(r.split).toBe('iid');
      expect(r.finalAccuracy).toBe(r.rounds.at(-1)!.accuracy);
      expect(Object.keys(r.rounds[0]!)).toEqual(expect.arrayContaining(['round', 'accuracy', 'bytesUpPerClinic', 'bytesDownPerClinic']));
    }
    const encrypted = doc.runs.find((r) => r.strategy === 'fedavg-head' && r.domain === 'encrypted')!;
    const baseline = doc.runs.find((r) => r.domain === 'gradient-encryption')!;
    expect(baseline.rounds[0]!.bytesUpPerClinic / encrypted.rounds[0]!.bytesUpPerClinic).toBeGreaterThan(1700);
  });
});
