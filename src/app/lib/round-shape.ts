// The shape a federation declares for its rounds (ciphertexts per upload and CKKS scale, issue 11): what every honest
// clinic of an app strategy uploads at a given token width, so the coordinator refuses any other shape with a 422
// from the first upload on. The token sum declares none: its length is each clinic's tile count.
import type { AggregationPresetId } from '../../protocol/vocabulary.ts';
import { heWorker } from '../workers.ts';
import type { AppStrategy } from './strategies.ts';

export interface DeclaredShape {
  ciphertextCount: number;
  scaleBits: number;
}

export async function declaredRoundShape(strategy: AppStrategy, presetId: AggregationPresetId, dim: number): Promise<DeclaredShape | null> {
  // src/fl's live round, loaded on demand: its strategies pull tfjs in.
  const { declaredShapeQuery } = await import('../../fl/live-round.ts');
  const query = declaredShapeQuery(strategy, dim);
  return query && heWorker().call('aggregationShape', { presetId, ...query });
}
