// The contract every federated strategy meets: in each round a clinic turns its local data (and the current global
// head) into one flat vector of numbers whose element-wise SUM over clinics is all the federation needs; the
// aggregator only adds (in clear or homomorphically), and every clinic turns the same sum into the same next global
// head. Counts travel inside the vector, so weighting happens after decryption and the aggregator learns nothing.
import type { AggregationRound } from '../../he/aggregate.ts';
import type { LinearHead } from '../../he/head.ts';
import { STRATEGY_NAMES as FEDERATION_STRATEGY_NAMES, type StrategyName as FederationStrategyName } from '../../protocol/vocabulary.ts';
import type { TokenSet } from '../dataset.ts';

/** The federation strategies that learn a head, i.e. all but 'sum' (which only adds tokens and has no Strategy). */
export type StrategyName = Exclude<FederationStrategyName, 'sum'>;
export const STRATEGY_NAMES: readonly StrategyName[] = FEDERATION_STRATEGY_NAMES.filter((s): s is StrategyName => s !== 'sum');

/** What a clinic holds locally: its training tokens and a held-out validation part. */
export interface ClinicData {
  index: number;
  train: TokenSet;
  validation: TokenSet;
}

export interface Strategy {
  readonly name: StrategyName;
  /** Rounds actually run when `requested` are asked for (the closed-form strategies finish in one). */
  roundsFor(requested: number): number;
  /** Length of every clinic's contribution (fixed by the strategy, the classes and the token width). */
  contributionLength(classes: number, dim: number): number;
  /**
   * Public bounds of a round, the same for every clinic: with them the encrypted domain picks its CKKS scale
   * (aggregationScaleBits), and every contribution entry must satisfy |v| <= maxCount * maxAbsValue.
   */
  roundBounds(clinicCount: number): Required<AggregationRound>;
  /** This clinic's additive contribution for `round` (1-based), given the global head it starts from. */
  contribute(clinic: ClinicData, global: LinearHead, round: number): Promise<Float64Array>;
  /** The next global head from the summed contributions (every clinic computes it identically). */
  combine(sum: Float64Array, previous: LinearHead): LinearHead;
}
