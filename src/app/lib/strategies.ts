// The federation strategies this app runs, written once as their labels: the round store refuses the others, the admin
// page offers only these, so Admin can never create a federation the app then refuses. How a round of each runs is
// src/fl's (live-round.ts, strategies/); what the page shows for it follows its traits (strategies/live-traits.ts).
// 'ridge' runs in `npm run simulate` only; adding it here, its label, is all the app needs to run it.
import type { RoundStrategyName } from '../../fl/strategies/types.ts';
import { isOneOf } from '../../protocol/vocabulary.ts';

interface StrategyLabel {
  /** The admin page's choice. */
  summary: string;
  /** What "Participate" does, on the federation page. */
  participate: string;
}

/** How the admin page describes each strategy, and what "Participate" does under it on the federation page. */
export const STRATEGY_LABELS = {
  'fedavg-head': {
    summary: 'fedavg-head — multi-round FedAvg of the classifier head',
    participate: 'Extracts missing tokens, trains the head from the last global head on your labelled tiles, uploads it encrypted (weighted by your tile count), waits for the others and decrypts the new global head.',
  },
  prototypes: {
    summary: 'prototypes — one round of per-class token sums',
    participate: 'Extracts missing tokens, uploads your encrypted per-class sums, waits for the others and decrypts the shared model.',
  },
  sum: {
    summary: 'sum — encrypted token sums (no classifier)',
    participate: 'Extracts missing tokens, uploads them encrypted, waits for the others and decrypts the sum.',
  },
} as const satisfies Partial<Record<RoundStrategyName, StrategyLabel>>;

export type AppStrategy = keyof typeof STRATEGY_LABELS;
export const APP_STRATEGIES = Object.keys(STRATEGY_LABELS) as AppStrategy[];
export const isAppStrategy = (s: unknown): s is AppStrategy => isOneOf(APP_STRATEGIES, s);
