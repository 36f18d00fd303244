// The contract every federated strategy meets: in each round a clinic turns its local data (and the current global
// head) into one flat vector of numbers whose element-wise SUM over clinics is all the federation needs; the
// aggregator only adds (in clear or homomorphically), and every clinic turns the same sum into the same next global
// head. Counts travel inside the vector, so weighting happens after decryption and the aggregator learns nothing.
import type { AggregationRound } from '../../he/aggregate.ts';
import type { LinearHead } from '../../he/head.ts';
import type { SlideStrategyName, StrategyName, TileStrategyName } from '../../protocol/vocabulary.ts';
import type { TokenSet } from '../dataset.ts';
import type { SlideClinicData, SlideSet } from '../slides.ts';

// The name lists are the protocol's (src/protocol/vocabulary.ts), re-exported under their own names.
export { SLIDE_STRATEGY_NAMES, TILE_STRATEGY_NAMES } from '../../protocol/vocabulary.ts';
export type { SlideStrategyName, StrategyName, TileStrategyName } from '../../protocol/vocabulary.ts';

/** What a clinic holds locally: its training tokens and a held-out validation part. */
export interface ClinicData {
  index: number;
  train: TokenSet;
  validation: TokenSet;
}

/** One federated learner over any local data (tile tokens, slide bags) and any global model (head, ABMIL). */
export interface FederatedStrategy<Clinic, Model> {
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
  /** This clinic's additive contribution for `round` (1-based), given the global model it starts from. */
  contribute(clinic: Clinic, global: Model, round: number): Promise<Float64Array>;
  /** The next global model from the summed contributions (every clinic computes it identically). */
  combine(sum: Float64Array, previous: Model): Model;
}

/** The strategies a clinic of a live federation runs on its tiles: the tile strategies and the token sum. */
export type RoundStrategyName = 'sum' | TileStrategyName;

/**
 * What one clinic's round of a live federation needs of a strategy (live-round.ts): every tile Strategy is one, and
 * so is the token sum, which learns no head (combine gives null) and whose length is the clinic's tile count
 * (contributionLength gives null: no shape can be declared for it).
 */
export interface RoundStrategy {
  readonly name: RoundStrategyName;
  contributionLength(classes: number, dim: number): number | null;
  roundBounds(clinicCount: number): Required<AggregationRound>;
  contribute(clinic: ClinicData, global: LinearHead, round: number): Promise<Float64Array>;
  combine(sum: Float64Array, previous: LinearHead): LinearHead | null;
}

/** A tile strategy: cached tile tokens in, a linear head out. */
export interface Strategy extends FederatedStrategy<ClinicData, LinearHead> {
  readonly name: TileStrategyName;
}

/** A slide strategy: bags of tile tokens with slide labels in, a slide classifier out. */
export interface SlideStrategy<Model = unknown> extends FederatedStrategy<SlideClinicData, Model> {
  readonly name: SlideStrategyName;
  /** The model every clinic starts round 1 from (the same for all: it depends only on the shape and the seed). */
  initialModel(classes: number, dim: number): Model;
  /** Class probabilities of each slide, [slide][class]. */
  probabilities(model: Model, set: SlideSet): Float64Array[];
}
