// What a clinic's round of a live federation involves for each strategy it can run, as plain data: the app reads it
// to lay out its page without loading the strategies themselves (tfjs, SEAL), and live-round.ts follows it.
// strategies.test.ts checks it against the strategies (trainsLocally is "runs more than one round", declaresShape
// "has a contribution length").
import type { RoundStrategyName } from './types.ts';

export interface RoundTraits {
  /** Trains locally every round from the previous round's global head: local epochs, held-out tiles, stored heads. */
  trainsLocally: boolean;
  /** Ends in a linear head every key holder decrypts alike; false: the decrypted sum itself is the result. */
  learnsHead: boolean;
  /** Its contribution's length follows from the classes and the token width, so a federation can declare its shape. */
  declaresShape: boolean;
}

export const ROUND_TRAITS: Readonly<Record<RoundStrategyName, RoundTraits>> = {
  sum: { trainsLocally: false, learnsHead: false, declaresShape: false },
  'fedavg-head': { trainsLocally: true, learnsHead: true, declaresShape: true },
  prototypes: { trainsLocally: false, learnsHead: true, declaresShape: true },
  ridge: { trainsLocally: false, learnsHead: true, declaresShape: true },
};

/** Local epochs a clinic may ask for per round (the page's default and the largest accepted). */
export const LOCAL_EPOCHS = { default: 5, max: 200 } as const;
