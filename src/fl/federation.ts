// One federated run: a strategy, a domain's SumChannel, the clinics' data and a test set. Each round the present
// clinics contribute (local training or statistics), the channel sums, every clinic combines the same sum into the
// next global head, and the head is scored on the test tokens and on each clinic's local validation tokens.
// Absent clinics (dropouts) skip a round and rejoin from the latest global head; the counts inside the sum keep the
// weighting right without anyone announcing who is missing.
import type { LinearHead } from '../he/head.ts';
import type { DomainName, SumChannel } from './channels.ts';
import type { TokenSet } from './dataset.ts';
import { accuracy, accuracyOf, predictClasses, zeroHead } from './head.ts';
import type { ClinicData, FederatedStrategy, Strategy, TileStrategyName } from './strategies/types.ts';

export interface PhaseMs {
  /** Local training or statistics, mean per present clinic. */
  train: number;
  encrypt: number;
  upload: number;
  /** Waiting for the aggregate (the coordinator's sum). */
  aggregate: number;
  download: number;
  decrypt: number;
  /** Combining the sum into the head and scoring it. */
  evaluate: number;
}

export interface RoundRecord {
  round: number;
  /** Test accuracy of the global head after this round, in [0, 1]. */
  accuracy: number;
  bytesUpPerClinic: number;
  bytesDownPerClinic: number;
  ciphertextsPerClinic: number;
  /** Clinics that contributed. */
  present: number[];
  /** Accuracy of the global head on each clinic's local validation tokens. */
  validationAccuracy: number[];
  phaseMs: PhaseMs;
}

export interface FederationRun {
  strategy: TileStrategyName;
  domain: DomainName;
  rounds: RoundRecord[];
  finalAccuracy: number;
  head: LinearHead;
  /** Test-set predictions of the final head. */
  predictions: Int32Array;
}

export interface FederationOptions {
  strategy: Strategy;
  channel: SumChannel;
  clinics: readonly ClinicData[];
  test: TokenSet;
  /** Rounds requested (closed-form strategies run one). */
  rounds: number;
  /** True when `clinic` misses `round` (dropout); it rejoins from the latest global head. */
  absent?: (round: number, clinic: number) => boolean;
}

export interface RoundLoop<Clinic extends { index: number }, Model> {
  strategy: FederatedStrategy<Clinic, Model>;
  channel: SumChannel;
  clinics: readonly Clinic[];
  rounds: number;
  absent?: (round: number, clinic: number) => boolean;
  classes: number;
  dim: number;
  initial: Model;
  /** Samples (tiles or slides) a clinic trains on: checked against the round's public maxCount. */
  countOf: (clinic: Clinic) => number;
  /** Test accuracy and per-clinic validation accuracy of a global model. */
  score: (model: Model) => { test: number; validation: number[] };
}

/** The rounds of any strategy: contribute, sum through the channel, combine, score. */
export async function runRounds<Clinic extends { index: number }, Model>(loop: RoundLoop<Clinic, Model>): Promise<{ records: RoundRecord[]; model: Model }> {
  const { strategy, channel, clinics } = loop;
  if (!Number.isInteger(loop.rounds) || loop.rounds < 1) throw new Error(`federation: rounds ${loop.rounds} must be a positive integer`);
  const bounds = strategy.roundBounds(clinics.length);
  const expectedLength = strategy.contributionLength(loop.classes, loop.dim);
  let global = loop.initial;
  const records: RoundRecord[] = [];

  for (let round = 1; round <= strategy.roundsFor(loop.rounds); round++) {
    const present = clinics.filter((c) => !loop.absent?.(round, c.index));
    if (present.length === 0) throw new Error(`federation: every clinic is absent from round ${round}`);
    const trainStarted = performance.now();
    const contributions = new Map<number, Float64Array>();
    for (const clinic of present) {
      if (loop.countOf(clinic) > bounds.maxCount) {
        throw new Error(`clinic ${clinic.index} has ${loop.countOf(clinic)} samples; the round allows at most ${bounds.maxCount}`);
      }
      const values = await strategy.contribute(clinic, global, round);
      if (values.length !== expectedLength) {
        throw new Error(`${strategy.name}: clinic ${clinic.index} contributed ${values.length} values, expected ${expectedLength}`);
      }
      contributions.set(clinic.index, values);
    }
    const trainMs = (performance.now() - trainStarted) / present.length;

    const summed = await channel.sum(round, contributions, bounds);

    const evaluateStarted = performance.now();
    global = strategy.combine(summed.sum, global);
    const { test: testAccuracy, validation: validationAccuracy } = loop.score(global);
    const { times } = summed;
    records.push({
      round,
      accuracy: testAccuracy,
      bytesUpPerClinic: summed.bytesUpPerClinic,
      bytesDownPerClinic: summed.bytesDownPerClinic,
      ciphertextsPerClinic: summed.ciphertextsPerClinic,
      present: present.map((c) => c.index),
      validationAccuracy,
      phaseMs: {
        train: trainMs,
        encrypt: times.encryptMs,
        upload: times.uploadMs,
        aggregate: times.aggregateMs,
        download: times.downloadMs,
        decrypt: times.decryptMs,
        evaluate: performance.now() - evaluateStarted,
      },
    });
  }
  return { records, model: global };
}

export async function runFederation(opts: FederationOptions): Promise<FederationRun> {
  const { strategy, channel, clinics, test } = opts;
  const first = clinics[0];
  if (!first) throw new Error('federation: needs at least one clinic');
  const { classes, dim } = first.train;
  for (const c of clinics) {
    if (c.train.dim !== dim || c.train.classes !== classes) {
      throw new Error(`federation: clinic ${c.index} has ${c.train.classes} classes x ${c.train.dim}, clinic ${first.index} ${classes} x ${dim}`);
    }
  }
  const { records, model: head } = await runRounds({
    strategy,
    channel,
    clinics,
    rounds: opts.rounds,
    ...(opts.absent ? { absent: opts.absent } : {}),
    classes,
    dim,
    initial: zeroHead(classes, dim),
    countOf: (c) => c.train.count,
    score: (h) => ({ test: accuracy(h, test), validation: clinics.map((c) => accuracy(h, c.validation)) }),
  });
  const predictions = predictClasses(head, test);
  return {
    strategy: strategy.name,
    domain: channel.domain,
    rounds: records,
    finalAccuracy: accuracyOf(predictions, test.labels),
    head,
    predictions,
  };
}
