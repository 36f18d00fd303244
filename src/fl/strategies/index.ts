// Strategy registry: names to instances, with the local-training and closed-form settings a run needs.
import { DEFAULT_ABMIL_TRAINING } from '../abmil.ts';
import type { AbmilTraining } from '../abmil.ts';
import type { HeadTrainer, LocalTrainingOptions } from '../head.ts';
import { Abmil } from './abmil.ts';
import { FedAvgHead } from './fedavg-head.ts';
import type { FedAvgPayload } from './fedavg-head.ts';
import { Prototypes } from './prototypes.ts';
import { MeanPool } from './mean-pool.ts';
import { Ridge } from './ridge.ts';
import { tokenSum } from './token-sum.ts';
import { SLIDE_STRATEGY_NAMES, TILE_STRATEGY_NAMES } from './types.ts';
import type { RoundStrategy, RoundStrategyName, SlideStrategy, SlideStrategyName, Strategy, TileStrategyName } from './types.ts';

export { FedAvgHead } from './fedavg-head.ts';
export { Prototypes } from './prototypes.ts';
export { Ridge, ridgeHead } from './ridge.ts';
export { Abmil } from './abmil.ts';
export type { AbmilModel } from './abmil.ts';
export { MeanPool, softmax } from './mean-pool.ts';
export { tokenSum } from './token-sum.ts';
export { LOCAL_EPOCHS, ROUND_TRAITS } from './live-traits.ts';
export type { RoundTraits } from './live-traits.ts';
export { SLIDE_STRATEGY_NAMES, TILE_STRATEGY_NAMES } from './types.ts';
export type { ClinicData, FederatedStrategy, RoundStrategy, RoundStrategyName, SlideStrategy, SlideStrategyName, Strategy, StrategyName, TileStrategyName } from './types.ts';

export interface StrategySettings {
  seed: number;
  training: Omit<LocalTrainingOptions, 'seed'>;
  ridgeLambda: number;
  /** fedavg-head only: send weights (default) or updates. */
  payload?: FedAvgPayload;
  /** Public bounds of the tokens a clinic sums (prototypes, ridge, sum): |value| and count (defaults TOKEN_LIMIT, 100,000). */
  tokens?: { limit: number; maxCount: number };
  /** Where fedavg-head trains (default trainHead in this realm). */
  trainHead?: HeadTrainer;
}

const tokenBounds = (settings: StrategySettings) => (settings.tokens ? { maxCount: settings.tokens.maxCount, tokenLimit: settings.tokens.limit } : {});

export function createStrategy(name: TileStrategyName, settings: StrategySettings): Strategy {
  switch (name) {
    case 'fedavg-head':
      return new FedAvgHead({ seed: settings.seed, training: settings.training, ...(settings.payload ? { payload: settings.payload } : {}), ...(settings.trainHead ? { trainHead: settings.trainHead } : {}) });
    case 'prototypes':
      return new Prototypes(tokenBounds(settings));
    case 'ridge':
      return new Ridge({ lambda: settings.ridgeLambda, ...tokenBounds(settings) });
    default:
      throw new Error(`unknown strategy '${String(name)}'; known: ${TILE_STRATEGY_NAMES.join(', ')}`);
  }
}

/** The strategy a clinic of a live federation runs (src/fl/live-round.ts): a tile strategy or the token sum. */
export function createRoundStrategy(name: RoundStrategyName, settings: StrategySettings): RoundStrategy {
  return name === 'sum' ? tokenSum(tokenBounds(settings)) : createStrategy(name, settings);
}

export interface SlideStrategySettings extends StrategySettings {
  /** mean-pool: the tile strategy the slide means go into. */
  pooled: TileStrategyName;
  abmil?: Omit<AbmilTraining, 'seed'>;
}

export function createSlideStrategy(name: SlideStrategyName, settings: SlideStrategySettings): SlideStrategy {
  switch (name) {
    case 'mean-pool':
      return new MeanPool(createStrategy(settings.pooled, settings)) as SlideStrategy;
    case 'abmil':
      return new Abmil({ seed: settings.seed, training: settings.abmil ?? DEFAULT_ABMIL_TRAINING }) as SlideStrategy;
    default:
      throw new Error(`unknown slide strategy '${String(name)}'; known: ${SLIDE_STRATEGY_NAMES.join(', ')}`);
  }
}
