// Each strategy's maths against a plain reference, in clear (PlainChannel) and through CKKS (the HE core's sum).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeContext } from '../he/context.ts';
import { packHead } from '../he/head.ts';
import { generateSecretKey } from '../he/tokens.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { EncryptedChannel, InProcessTransport, PlainChannel } from './channels.ts';
import type { SumChannel } from './channels.ts';
import { syntheticDataset } from './dataset.ts';
import type { TokenSet } from './dataset.ts';
import { GRADIENT_ENCRYPTION_DEFINITION, gradientPayload, lastBlockParameterCount } from './gradient-baseline.ts';
import { DEFAULT_LOCAL_TRAINING, predictClasses, trainHead, zeroHead } from './head.ts';
import { ridgeStatistics } from './linalg.ts';
import { prepareClinics } from './simulation.ts';
import { createRoundStrategy, FedAvgHead, Prototypes, ROUND_TRAITS, Ridge, ridgeHead, TILE_STRATEGY_NAMES } from './strategies/index.ts';
import type { ClinicData, Strategy } from './strategies/index.ts';
import { deriveSeed } from './random.ts';

const { train, test } = syntheticDataset({ seed: 2, trainPerClass: 90, testPerClass: 50 });
const clinics = prepareClinics(train, 3, 'label-skew', 2, 0.1);

function concat(sets: readonly TokenSet[]): TokenSet {
  const count = sets.reduce((n, s) => n + s.count, 0);
  const tokens = new Float32Array(count * train.dim);
  const labels = new Int32Array(count);
  let at = 0;
  for (const s of sets) {
    tokens.set(s.tokens, at * s.dim);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { dim: train.dim, classes: train.classes, count, tokens, labels };
}

async function oneRound(strategy: Strategy, channel: SumChannel, present: readonly ClinicData[] = clinics) {
  const contributions = new Map<number, Float64Array>();
  for (const c of present) contributions.set(c.index, await strategy.contribute(c, zeroHead(3, 768), 1));
  const { sum } = await channel.sum(1, contributions, strategy.roundBounds(clinics.length));
  return strategy.combine(sum, zeroHead(3, 768));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('strategies against plain references', () => {
  let ctx: HeContext;
  let encrypted: SumChannel;
  const plain = new PlainChannel();
  beforeAll(async () => {
    await useNodeWasmBackend();
    ctx = await HeContext.create('agg-v1');
    const key = await generateSecretKey(ctx, 'fed-fl-maths');
    encrypted = new EncryptedChannel({ ctx, secretKey: key, federationId: 'fed-fl-maths', transport: new InProcessTransport(ctx, 'fed-fl-maths') });
  });
  afterAll(() => ctx.dispose());

  it('prototypes: the summed class sums and counts give the pooled class means and a nearest-class-mean head', async () => {
    const all = concat(clinics.map((c) => c.train));
    const means = [0, 1, 2].map((c) => {
      const rows = Array.from(all.labels.keys()).filter((t) => all.labels[t] === c);
      return Float64Array.from({ length: 768 }, (_, j) => rows.reduce((s, t) => s + (all.tokens[t * 768 + j] as number), 0) / rows.length);
    });
    for (const channel of [plain, encrypted]) {
      const head = await oneRound(new Prototypes(), channel);
      const tolerance = channel === plain ? 1e-12 : 1e-6;
      means.forEach((m, c) => expect(maxAbsDiff(head.weights.subarray(c * 768, (c + 1) * 768), m)).toBeLessThan(tolerance));
      const nearest = Array.from({ length: test.count }, (_, t) => {
        const d = means.map((m) => m.reduce((s, v, j) => s + (v - (test.tokens[t * 768 + j] as number)) ** 2, 0));
        return d.indexOf(Math.min(...d));
      });
      expect(Array.from(predictClasses(head, test))).toEqual(nearest);
    }
  });

  it('ridge: federated statistics equal the pooled ones; the head equals pooled ridge within 1e-4 and solves the normal equations', async () => {
    const strategy = new Ridge({ lambda: 0.5 });
    expect(strategy.contributionLength(3, 768)).toBe(298_372);
    const all = concat(clinics.map((c) => c.train));
    const reference = ridgeHead(ridgeStatistics(all), 3, 768, 0.5);
    const clear = await oneRound(strategy, plain);
    const viaCkks = await oneRound(strategy, encrypted);
    expect(maxAbsDiff(clear.weights, reference.weights)).toBeLessThan(1e-9);
    expect(maxAbsDiff(viaCkks.weights, reference.weights)).toBeLessThan(1e-4);
    expect(maxAbsDiff(viaCkks.biases, reference.biases)).toBeLessThan(1e-4);
    // Normal equations of min |XW + b - Y|^2 + lambda n |W|^2, checked directly on the tokens.
    const residual = Array.from({ length: all.count }, (_, t) =>
      [0, 1, 2].map((c) => {
        let s = (reference.biases[c] as number) - (all.labels[t] === c ? 1 : 0);
        for (let j = 0; j < 768; j++) s += (reference.weights[c * 768 + j] as number) * (all.tokens[t * 768 + j] as number);
        return s;
      }),
    );
    let worst = 0;
    for (let c = 0; c < 3; c++) {
      for (let j = 0; j < 768; j += 7) {
        const g = residual.reduce((s, r, t) => s + (r[c] as number) * (all.tokens[t * 768 + j] as number), 0) + 0.5 * all.count * (reference.weights[c * 768 + j] as number);
        worst = Math.max(worst, Math.abs(g));
      }
      expect(Math.abs(residual.reduce((s, r) => s + (r[c] as number), 0))).toBeLessThan(1e-8);
    }
    expect(worst).toBeLessThan(1e-7);
  });

  it('fedavg-head: one round is the count-weighted mean of the local heads; updates give the same head', async () => {
    const training = { ...DEFAULT_LOCAL_TRAINING, epochs: 1 };
    const locals = await Promise.all(
      clinics.map((c) => trainHead(zeroHead(3, 768), c.train, { ...training, seed: deriveSeed(7, `fedavg-head clinic ${c.index} round 1`) })),
    );
    const total = clinics.reduce((n, c) => n + c.train.count, 0);
    const want = new Float64Array(3 * 768 + 3);
    locals.forEach((h, i) => packHead(h).forEach((v, k) => (want[k] = (want[k] as number) + (v * (clinics[i] as ClinicData).train.count) / total)));
    for (const channel of [plain, encrypted]) {
      for (const payload of ['weights', 'update'] as const) {
        const head = await oneRound(new FedAvgHead({ seed: 7, training, payload }), channel);
        expect(maxAbsDiff(packHead(head), want)).toBeLessThan(channel === plain ? 1e-12 : 1e-7);
      }
    }
  });

  it('refuses contributions outside the round bounds before encrypting, naming the value', async () => {
    const bounds = { clinicCount: 3, maxCount: 10, maxAbsValue: 2 };
    const values = new Float64Array(5000);
    values[4500] = 21;
    await expect(encrypted.sum(4, new Map([[1, values]]), bounds)).rejects.toThrow('clinic 1 round 4: value 4500 is 21; the round\'s bounds allow |value| <= 10 x 2');
  });

  it('gradient-encryption baseline: ViT-B/16 last block from the architecture, packed 4,096 values per ciphertext', () => {
    expect(lastBlockParameterCount()).toBe(7_087_872);
    expect(GRADIENT_ENCRYPTION_DEFINITION).toContain('last transformer block of ViT-B/16 (7,087,872 parameters)');
    expect(gradientPayload(ctx, 3, 768)).toEqual({
      headValues: 2307,
      blockValues: 7_087_872,
      ciphertexts: 1732,
      headCiphertexts: 1,
      accountedCiphertexts: 1731,
    });
  });
});

describe('live round traits', () => {
  it('say what each strategy does: local training is running more than one round, a head comes from every tile strategy', () => {
    const settings = { seed: 1, training: DEFAULT_LOCAL_TRAINING, ridgeLambda: 1 };
    for (const name of TILE_STRATEGY_NAMES) {
      const strategy = createRoundStrategy(name, settings) as Strategy;
      expect(ROUND_TRAITS[name], name).toEqual({ trainsLocally: strategy.roundsFor(2) > 1, learnsHead: true, declaresShape: strategy.contributionLength(3, 8) > 0 });
    }
    const sum = createRoundStrategy('sum', settings);
    expect([ROUND_TRAITS.sum, sum.contributionLength(3, 8), sum.combine(new Float64Array(3), zeroHead(3, 1))]).toEqual([{ trainsLocally: false, learnsHead: false, declaresShape: false }, null, null]);
  });
});
