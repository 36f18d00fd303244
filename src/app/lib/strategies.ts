// The federation strategies this app can run, written once: the round store refuses the others, the admin page offers
// only these, so Admin can never create a federation the app then refuses. 'ridge' (src/fl/strategies) runs in
// `npm run simulate` only; it joins this list when the app has a round for it. Adding one here is adding its labels.
import { isOneOf, type StrategyName } from '../../protocol/vocabulary.ts';

export const APP_STRATEGIES = ['fedavg-head', 'prototypes', 'sum'] as const satisfies readonly StrategyName[];
export type AppStrategy = (typeof APP_STRATEGIES)[number];
export const isAppStrategy = (s: unknown): s is AppStrategy => isOneOf(APP_STRATEGIES, s);

/** How the admin page describes each strategy, and what "Participate" does under it on the federation page. */
export const STRATEGY_LABELS: Readonly<Record<AppStrategy, { summary: string; participate: string }>> = {
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
};
