// The shape a federation declares for its rounds (ciphertexts per upload and CKKS scale, issue 11): what every honest
// clinic of an app strategy uploads at a given token width, so the coordinator refuses any other shape with a 422
// from the first upload on. 'sum' declares none: its length is each clinic's tile count.
import { roundShapeQuery } from '../../fl/round-client.ts';
import { CLASS_LABELS, type AggregationPresetId } from '../../protocol/vocabulary.ts';
import { heWorker } from '../workers.ts';
import { fedavgBounds } from './fedavg.ts';
import { PROTOTYPE_BOUNDS } from './federated-head.ts';
import type { AppStrategy } from './strategies.ts';

export interface DeclaredShape {
  ciphertextCount: number;
  scaleBits: number;
}

export async function declaredRoundShape(strategy: AppStrategy, presetId: AggregationPresetId, dim: number): Promise<DeclaredShape | null> {
  if (strategy === 'sum') return null;
  const classes = CLASS_LABELS.length;
  // The strategies' own lengths (src/fl), loaded on demand: fedavg-head's module pulls tfjs in.
  let round: { length: number; bounds: Awaited<ReturnType<typeof fedavgBounds>> };
  if (strategy === 'prototypes') {
    const { Prototypes } = await import('../../fl/strategies/prototypes.ts');
    round = { length: new Prototypes({}).contributionLength(classes, dim), bounds: PROTOTYPE_BOUNDS };
  } else {
    const [{ FedAvgHead }, { DEFAULT_LOCAL_TRAINING }] = await Promise.all([import('../../fl/strategies/fedavg-head.ts'), import('../../fl/head.ts')]);
    round = { length: new FedAvgHead({ training: DEFAULT_LOCAL_TRAINING, seed: 0 }).contributionLength(classes, dim), bounds: await fedavgBounds() };
  }
  return heWorker().call('aggregationShape', { presetId, ...roundShapeQuery(round.length, round.bounds) });
}
