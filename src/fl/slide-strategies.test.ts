// The slide strategies' arithmetic: mean-pool (into prototypes, ridge and fedavg-head) is the tile strategy on
// slide means; abmil's round is the slide-count-weighted mean of the clinics' locally trained models, in clear and
// through CKKS, and a clinic absent from a round leaves the slide-weighted mean of the present ones (it rejoins from
// the latest global model); slide splits are partitions; macro AUC against a hand count.
import { beforeAll, describe, expect, it } from 'vitest';
import { HeContext } from '../he/context.ts';
import { generateSecretKey } from '../he/tokens.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { DEFAULT_ABMIL_TRAINING, abmilParameterCount, abmilShape, trainAbmil } from './abmil.ts';
import { EncryptedChannel, InProcessTransport, PlainChannel } from './channels.ts';
import { tokenSet } from './dataset.ts';
import { DEFAULT_LOCAL_TRAINING, zeroHead } from './head.ts';
import { ridgeStatistics } from './linalg.ts';
import { macroAuc, runSlideFederation } from './slide-federation.ts';
import { meanPoolSlides, prepareSlideClinics, syntheticSlides } from './slides.ts';
import { Abmil, FedAvgHead, MeanPool, Prototypes, Ridge, ridgeHead } from './strategies/index.ts';
import type { Strategy } from './strategies/index.ts';
import { deriveSeed } from './random.ts';

const { train, test } = syntheticSlides({ seed: 3, trainPerClass: 12, testPerClass: 2, dim: 16, tiles: [5, 9] });
const clinics = prepareSlideClinics(train, 3, 'label-skew', 3, 0.2);

describe('slide strategies', () => {
  beforeAll(async () => {
    await useNodeWasmBackend();
  });

  it('splits slides into a partition and pools each slide to the mean of its tiles', () => {
    const seen = clinics.flatMap((c) => [...c.train.bags, ...c.validation.bags]);
    expect(new Set(seen).size).toBe(train.count);
    const pooled = meanPoolSlides(train);
    const bag = train.bags[4] as Float32Array;
    const n = bag.length / 16;
    for (let j = 0; j < 16; j++) {
      let m = 0;
      for (let t = 0; t < n; t++) m += bag[t * 16 + j] as number;
      expect(pooled.tokens[4 * 16 + j]).toBeCloseTo(m / n, 5);
    }
  });

  it('mean-pool contributes exactly what its tile strategy contributes on the slide means', async () => {
    const clinic = clinics[0]!;
    const meanPool = new MeanPool(new Prototypes());
    const head = meanPool.initialModel(3, 16);
    const direct = await new Prototypes().contribute({ index: 0, train: meanPoolSlides(clinic.train), validation: meanPoolSlides(clinic.validation) });
    expect(Array.from(await meanPool.contribute(clinic, head, 1))).toEqual(Array.from(direct));
    expect(meanPool.probabilities(head, clinic.train).every((p) => p.every((v) => Math.abs(v - 1 / 3) < 1e-12))).toBe(true);
  });

  it.each([
    ['ridge', () => new Ridge({ lambda: 0.5 })],
    ['fedavg-head', () => new FedAvgHead({ seed: 7, training: { ...DEFAULT_LOCAL_TRAINING, epochs: 2 } })],
  ] as const)('mean-pool+%s: every round, contributions and the next head are the tile strategy\'s on the slide means', async (_, innerStrategy: () => Strategy) => {
    const meanPool = new MeanPool(innerStrategy());
    const inner = innerStrategy();
    const pooled = clinics.map((c) => ({ index: c.index, train: meanPoolSlides(c.train), validation: meanPoolSlides(c.validation) }));
    let global = meanPool.initialModel(3, 16);
    let innerGlobal = zeroHead(3, 16);
    const rounds = meanPool.roundsFor(2);
    expect(rounds).toBe(inner.roundsFor(2));
    const lastEntries: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const sum = new Float64Array(meanPool.contributionLength(3, 16));
      for (const [i, clinic] of clinics.entries()) {
        const values = await meanPool.contribute(clinic, global, round);
        expect(Array.from(values)).toEqual(Array.from(await inner.contribute(pooled[i]!, innerGlobal, round)));
        lastEntries.push(values.at(-1) as number);
        values.forEach((v, k) => (sum[k] = (sum[k] as number) + v));
      }
      global = meanPool.combine(sum, global);
      innerGlobal = inner.combine(sum, innerGlobal);
      expect(global).toEqual(innerGlobal);
    }
    // The counts inside the sum are slide counts: ridge's head is the pooled-data ridge on every clinic's slide
    // means, fedavg-head's count entry is each clinic's number of training slides in every round.
    const slides = clinics.reduce((n, c) => n + c.train.count, 0);
    if (inner instanceof Ridge) {
      const all = tokenSet(16, 3, Float32Array.from(pooled.flatMap((p) => Array.from(p.train.tokens))), Int32Array.from(pooled.flatMap((p) => Array.from(p.train.labels))));
      expect(all.count).toBe(slides);
      const want = ridgeHead(ridgeStatistics(all), 3, 16, 0.5);
      global.weights.forEach((w, k) => expect(w).toBeCloseTo(want.weights[k] as number, 9));
      global.biases.forEach((b, k) => expect(b).toBeCloseTo(want.biases[k] as number, 9));
    } else {
      expect(lastEntries).toEqual(Array.from({ length: rounds }, () => clinics.map((c) => c.train.count)).flat());
      expect(global.weights.some((w) => w !== 0)).toBe(true);
    }
  });

  it('abmil: [n * theta, n] per clinic; the round is the slide-weighted mean of the local models, clear and CKKS', async () => {
    const training = { ...DEFAULT_ABMIL_TRAINING, epochs: 1 };
    const strategy = new Abmil({ seed: 5, training });
    const global = strategy.initialModel(3, 16);
    expect(strategy.contributionLength(3, 16)).toBe(abmilParameterCount(abmilShape(16, 3)) + 1);
    const contributions = new Map<number, Float64Array>();
    const locals = clinics.map((c) => trainAbmil(global.shape, global.parameters, c.train.bags.map((tiles, s) => ({ tiles, label: c.train.labels[s] as number })), { ...training, seed: deriveSeed(5, `abmil clinic ${c.index} round 1`) }));
    for (const c of clinics) contributions.set(c.index, await strategy.contribute(c, global, 1));
    clinics.forEach((c, i) => {
      const v = contributions.get(c.index) as Float64Array;
      expect(v[v.length - 1]).toBe(c.train.count);
      expect(v[123]).toBeCloseTo(c.train.count * (locals[i]![123] as number), 9);
    });
    const total = clinics.reduce((n, c) => n + c.train.count, 0);
    const want = Float64Array.from(global.parameters, (_, k) => clinics.reduce((s, c, i) => s + c.train.count * (locals[i]![k] as number), 0) / total);
    const ctx = await HeContext.create('agg-v1');
    const key = await generateSecretKey(ctx, 'fed-abmil');
    const encrypted = new EncryptedChannel({ ctx, secretKey: key, federationId: 'fed-abmil', transport: new InProcessTransport(ctx, 'fed-abmil') });
    for (const [channel, tolerance] of [[new PlainChannel(), 1e-12], [encrypted, 1e-6]] as const) {
      const summed = await channel.sum(1, contributions, strategy.roundBounds(3));
      if (channel === encrypted) expect(summed.ciphertextsPerClinic).toBe(Math.ceil(strategy.contributionLength(3, 16) / 4096));
      const next = strategy.combine(summed.sum, global);
      let worst = 0;
      next.parameters.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - (want[k] as number)))));
      expect(worst).toBeLessThan(tolerance);
    }
    ctx.dispose();
  }, 120_000);

  it('abmil straggler: clinic 2 misses round 2, which is the slide-weighted mean of clinics 0 and 1; it rejoins at round 3', async () => {
    const training = { ...DEFAULT_ABMIL_TRAINING, epochs: 1 };
    const strategy = new Abmil({ seed: 5, training });
    const absent = (round: number, clinic: number) => round === 2 && clinic === 2;
    const localsFrom = (start: Float64Array, round: number, indices: readonly number[]) =>
      indices.map((i) => {
        const c = clinics[i]!;
        const bags = c.train.bags.map((tiles, s) => ({ tiles, label: c.train.labels[s] as number }));
        return trainAbmil(abmilShape(16, 3), start, bags, { ...training, seed: deriveSeed(5, `abmil clinic ${i} round ${round}`) });
      });
    const weightedMean = (locals: Float64Array[], indices: readonly number[]) => {
      const n = indices.map((i) => clinics[i]!.train.count);
      const total = n.reduce((a, b) => a + b, 0);
      return Float64Array.from(locals[0]!, (_, k) => locals.reduce((s, l, j) => s + n[j]! * (l[k] as number), 0) / total);
    };
    const worst = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - (b[k] as number))), 0);

    const after1 = await runSlideFederation({ strategy, channel: new PlainChannel(), clinics, test, rounds: 1 });
    const want2 = weightedMean(localsFrom(after1.model.parameters, 2, [0, 1]), [0, 1]);
    const ctx = await HeContext.create('agg-v1');
    const key = await generateSecretKey(ctx, 'fed-abmil-straggler');
    const encrypted = new EncryptedChannel({ ctx, secretKey: key, federationId: 'fed-abmil-straggler', transport: new InProcessTransport(ctx, 'fed-abmil-straggler') });
    // Through CKKS round 1's model carries the scheme's noise (below 1e-6), which round 2's Adam steps amplify (~6e-5
    // measured), so the encrypted run is held to the clear reference at 1e-3; letting the absent clinic contribute
    // moves a parameter by ~6e-3 (measured).
    for (const [channel, tolerance] of [[new PlainChannel(), 1e-12], [encrypted, 1e-3]] as const) {
      const after2 = await runSlideFederation({ strategy, channel, clinics, test, rounds: 2, absent });
      expect(after2.rounds.map((r) => r.present)).toEqual([[0, 1, 2], [0, 1]]);
      expect(worst(after2.model.parameters, want2)).toBeLessThan(tolerance);
    }
    ctx.dispose();

    const after3 = await runSlideFederation({ strategy, channel: new PlainChannel(), clinics, test, rounds: 3, absent });
    expect(after3.rounds.map((r) => r.present)).toEqual([[0, 1, 2], [0, 1], [0, 1, 2]]);
    expect(worst(after3.model.parameters, weightedMean(localsFrom(want2, 3, [0, 1, 2]), [0, 1, 2]))).toBeLessThan(1e-9);
  }, 120_000);

  it('macro AUC: one-vs-rest Mann-Whitney with ties as halves', () => {
    const p = (a: number, b: number, c: number) => Float64Array.of(a, b, c);
    const probabilities = [p(0.8, 0.1, 0.1), p(0.5, 0.4, 0.1), p(0.5, 0.2, 0.3), p(0.1, 0.1, 0.8)];
    // class 0 (slides 0, 1): scores 0.8, 0.5 vs 0.5, 0.1 -> (1 + 1 + 0.5 + 1) / 4; class 1 (slide 2): 0.2 vs 0.1, 0.4, 0.1 -> 2/3;
    // class 2 (slide 3): 0.8 vs all -> 1.
    expect(macroAuc(probabilities, Int32Array.of(0, 0, 1, 2), 3)).toBeCloseTo((0.875 + 2 / 3 + 1) / 3, 12);
  });
});
