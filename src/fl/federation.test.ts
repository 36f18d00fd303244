// Domains on identical data and seeds: the encrypted federation must reach exactly the unencrypted one's accuracy
// (|delta| <= 0.1 pp, >= 99.9% identical predictions) for every strategy, on IID and label-skew splits; and a clinic
// that misses a round (closed by the real coordinator at its deadline) rejoins from the latest global head.
import { beforeAll, describe, expect, it } from 'vitest';
import { packHead } from '../he/head.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { PlainChannel } from './channels.ts';
import { syntheticDataset } from './dataset.ts';
import type { SplitName } from './dataset.ts';
import { runFederation } from './federation.ts';
import { DEFAULT_LOCAL_TRAINING, trainHead } from './head.ts';
import { deriveSeed } from './random.ts';
import { DEFAULT_SIMULATION, compareRuns, prepareClinics, simulate } from './simulation.ts';
import type { SimulationOptions, SimulationRun } from './simulation.ts';
import { FedAvgHead, TILE_STRATEGY_NAMES } from './strategies/index.ts';
import { startEmbeddedCoordinator } from '../coordinator/embedded.ts';

const SMALL: SimulationOptions = {
  ...DEFAULT_SIMULATION,
  strategies: TILE_STRATEGY_NAMES,
  domains: ['unencrypted', 'encrypted'],
  trainPerClass: 150,
  testPerClass: 400,
  rounds: 3,
  seed: 4,
  aggregator: 'in-process',
};

function twin(runs: readonly SimulationRun[], run: SimulationRun): SimulationRun {
  const found = runs.find((r) => r.strategy === run.strategy && r.domain === 'unencrypted');
  if (!found) throw new Error(`no unencrypted run for ${run.strategy}`);
  return found;
}

describe('encrypted domain == unencrypted domain', () => {
  beforeAll(async () => {
    await useNodeWasmBackend();
  });

  it.each(['iid', 'label-skew'] satisfies SplitName[])('every strategy on a %s split', async (split) => {
    const { runs } = await simulate({ ...SMALL, split });
    expect(runs.map((r) => `${r.strategy}/${r.domain}`)).toEqual(TILE_STRATEGY_NAMES.flatMap((s) => [`${s}/unencrypted`, `${s}/encrypted`]));
    for (const run of runs.filter((r) => r.domain === 'encrypted')) {
      const { accuracyDeltaPp, agreement } = compareRuns(run, twin(runs, run));
      expect(Math.abs(accuracyDeltaPp), `${run.strategy} accuracy delta`).toBeLessThanOrEqual(0.1);
      expect(agreement, `${run.strategy} prediction agreement`).toBeGreaterThanOrEqual(0.999);
      expect(run.rounds).toHaveLength(run.strategy === 'fedavg-head' ? 3 : 1);
      expect(run.finalAccuracy).toBeGreaterThan(0.6); // chance is 1/3; nearest-class-mean is the weakest with 135 tokens per clinic
      // Encrypted bytes are real ciphertext bundles: one agg-v1 ciphertext (~63 KB) per 4,096 values.
      const { bytesUpPerClinic, ciphertextsPerClinic } = run.rounds[0]!;
      expect(bytesUpPerClinic / ciphertextsPerClinic).toBeGreaterThan(60_000);
      expect(bytesUpPerClinic / ciphertextsPerClinic).toBeLessThan(66_000);
    }
  });

  it('a clinic missing round 2 rejoins at round 3; encrypted through the real coordinator matches clear', async () => {
    const absent = (round: number, clinic: number) => round === 2 && clinic === 2;
    const { runs, clinics, test } = await simulate({ ...SMALL, strategies: ['fedavg-head'], aggregator: 'coordinator', startCoordinator: startEmbeddedCoordinator, absent });
    const [clear, encrypted] = runs as [SimulationRun, SimulationRun];
    expect(encrypted.domain).toBe('encrypted');
    expect(encrypted.rounds.map((r) => r.present)).toEqual([[0, 1, 2], [0, 1], [0, 1, 2]]);
    const { accuracyDeltaPp, agreement } = compareRuns(encrypted, clear);
    expect(Math.abs(accuracyDeltaPp)).toBeLessThanOrEqual(0.1);
    expect(agreement).toBeGreaterThanOrEqual(0.999);

    // Plain reference for the dropout round: the count-weighted mean of clinics 0 and 1 only, trained from round 1's head.
    const strategy = new FedAvgHead({ seed: SMALL.seed, training: SMALL.training });
    const after1 = await runFederation({ strategy, channel: new PlainChannel(), clinics, test, rounds: 1 });
    const after2 = await runFederation({ strategy, channel: new PlainChannel(), clinics, test, rounds: 2, absent });
    const locals = await Promise.all(
      [0, 1].map((i) =>
        trainHead(after1.head, clinics[i]!.train, { ...DEFAULT_LOCAL_TRAINING, seed: deriveSeed(SMALL.seed, `fedavg-head clinic ${i} round 2`) }),
      ),
    );
    const n = [clinics[0]!.train.count, clinics[1]!.train.count];
    const want = packHead(locals[0]!).map((v, k) => (v * n[0]! + packHead(locals[1]!)[k]! * n[1]!) / (n[0]! + n[1]!));
    const got = packHead(after2.head);
    expect(Math.max(...got.map((v, k) => Math.abs(v - want[k]!)))).toBeLessThan(1e-12);
    // Rejoining changes the outcome: round 3 with clinic 2 back differs from a federation without the dropout.
    const full = await runFederation({ strategy, channel: new PlainChannel(), clinics, test, rounds: 3 });
    expect(packHead(full.head)).not.toEqual(packHead(clear.head));
  });

  it('rejects a round with every clinic absent', async () => {
    const { train, test } = syntheticDataset({ seed: 1, trainPerClass: 30, testPerClass: 5 });
    const clinics = prepareClinics(train, 2, 'iid', 1, 0.2);
    const strategy = new FedAvgHead({ seed: 1, training: DEFAULT_LOCAL_TRAINING });
    await expect(runFederation({ strategy, channel: new PlainChannel(), clinics, test, rounds: 2, absent: (r) => r === 2 })).rejects.toThrow(
      'every clinic is absent from round 2',
    );
  });
});
