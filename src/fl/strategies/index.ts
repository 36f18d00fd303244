// Strategy registry: names to instances, with the local-training and closed-form settings a run needs.
import type { LocalTrainingOptions } from '../head.ts';
import { FedAvgHead } from './fedavg-head.ts';
import type { FedAvgPayload } from './fedavg-head.ts';
import { Prototypes } from './prototypes.ts';
import { Ridge } from './ridge.ts';
import { STRATEGY_NAMES } from './types.ts';
import type { Strategy, StrategyName } from './types.ts';

export { FedAvgHead } from './fedavg-head.ts';
export { Prototypes } from './prototypes.ts';
export { Ridge, ridgeHead } from './ridge.ts';
export { STRATEGY_NAMES } from './types.ts';
export type { ClinicData, Strategy, StrategyName } from './types.ts';

export interface StrategySettings {
  seed: number;
  training: Omit<LocalTrainingOptions, 'seed'>;
  ridgeLambda: number;
  /** fedavg-head only: send weights (default) or updates. */
  payload?: FedAvgPayload;
}

export function createStrategy(name: StrategyName, settings: StrategySettings): Strategy {
  switch (name) {
    case 'fedavg-head':
      return new FedAvgHead({ seed: settings.seed, training: settings.training, ...(settings.payload ? { payload: settings.payload } : {}) });
    case 'prototypes':
      return new Prototypes();
    case 'ridge':
      return new Ridge({ lambda: settings.ridgeLambda });
    default:
      throw new Error(`unknown strategy '${String(name)}'; known: ${STRATEGY_NAMES.join(', ')}`);
  }
}
