// One federated run: a strategy, a domain's SumChannel, the clinics' data and a test set. Each round the present
// clinics contribute (local training or statistics), the channel sums, every clinic combines the same sum into the
// next global head, and the head is scored on the test tokens and on each clinic's local validation tokens.
// Absent clinics (dropouts) skip a round and rejoin from the latest global head; the counts inside the sum keep the
// weighting right without anyone announcing who is missing.
import type { LinearHead } from '../he/head.ts';
import type { DomainName, SumChannel } from './channels.ts';
import type { TokenSet } from './dataset.ts';
import { accuracy, accuracyOf, predictClasses, zeroHead } from './head.ts';
import type { ClinicData, Strategy, StrategyName } from './strategies/types.ts';

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
  strategy: StrategyName;
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

export async function runFederation(opts: FederationOptions): Promise<FederationRun> {
  const { strategy, channel, clinics, test } = opts;
  const first = clinics[0];
  if (!first) throw new Error('federation: needs at least one clinic');
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error(`federation: rounds ${opts.rounds} must be a positive integer`);
  const { classes, dim } = first.train;
  for (const c of clinics) {
    if (c.train.dim !== dim || c.train.classes !== classes) {
      throw new Error(`federation: clinic ${c.index} has ${c.train.classes} classes x ${c.train.dim}, clinic ${first.index} ${classes} x ${dim}`);
    }
  }
  const bounds = strategy.roundBounds(clinics.length);
  const expectedLength = strategy.contributionLength(classes, dim);
  let global = zeroHead(classes, dim);
  const records: RoundRecord[] = [];

  for (let round = 1; round <= strategy.roundsFor(opts.rounds); round++) {
    const present = clinics.filter((c) => !opts.absent?.(round, c.index));
    if (present.length === 0) throw new Error(`federation: every clinic is absent from round ${round}`);
    const trainStarted = performance.now();
    const contributions = new Map<number, Float64Array>();
    for (const clinic of present) {
      if (clinic.train.count > bounds.maxCount) {
        throw new Error(`clinic ${clinic.index} has ${clinic.train.count} tokens; the round allows at most ${bounds.maxCount}`);
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
    const testAccuracy = accuracy(global, test);
    const validationAccuracy = clinics.map((c) => accuracy(global, c.validation));
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
  const predictions = predictClasses(global, test);
  return {
    strategy: strategy.name,
    domain: channel.domain,
    rounds: records,
    finalAccuracy: accuracyOf(predictions, test.labels),
    head: global,
    predictions,
  };
}
