// src/fl's RoundClient bound to this browser: the SPA's coordinator client for the round routes and the HE worker
// for encryption and the inclusion markers (the same src/he functions the simulator calls in Node), by the handle of
// the aggregation key in the worker's key slot. Only bindings live here; the round itself (contribute, wait,
// download, verify) is src/fl/round-client.ts.
import type { KeyHandle } from '../../he/key-slots.ts';
import type { PresetId } from '../../he/params.ts';
import { PRESETS } from '../../he/params.ts';
import { RoundClient } from '../../fl/round-client.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { heWorker } from '../workers.ts';
import { roundPoller } from './round-poller.ts';

export interface ClinicAccess {
  token: string;
  clinicId: string;
  federationId: string;
  presetId: PresetId;
  /** The federation's quorum when this clinic enrolled. */
  pinnedQuorum: number;
  /** The aggregation key's handle in the HE worker. */
  aggregationKey: KeyHandle;
}

const clients = new Map<string, { key: KeyHandle; client: RoundClient }>();

/** The one RoundClient of this clinic in this federation (so every caller shares its per-round poller). */
export function roundClient(access: ClinicAccess): RoundClient {
  const cacheKey = `${access.federationId}#${access.clinicId}#${access.token}#${access.pinnedQuorum}`;
  const known = clients.get(cacheKey);
  if (known && known.key === access.aggregationKey) return known.client;
  const { token, federationId, presetId, aggregationKey: key } = access;
  const slots = PRESETS[presetId].polyModulusDegree / 2;
  const client = new RoundClient({
    api: {
      round: (round, signal) => coordinatorApi.round(token, federationId, round, signal),
      upload: (round, bundle, signal) => coordinatorApi.upload(token, federationId, round, bundle, signal),
      aggregate: (round, signal) => coordinatorApi.aggregate(token, federationId, round, signal),
    },
    crypto: {
      ciphertextCount: (length) => Math.ceil((length + 1) / slots),
      encrypt: (values, bounds) => heWorker().encryptWeightedContribution(key, values, 1, bounds),
      async decrypt(parts, length) {
        const { mean, totalCount } = await heWorker().decryptWeightedMean(key, parts, length);
        return { sum: mean.map((v) => v * totalCount), contributions: totalCount };
      },
      markers: (round, clinicIds) => heWorker().inclusionMarkers(key, round, clinicIds),
    },
    federationId,
    clinicId: access.clinicId,
    pinnedQuorum: access.pinnedQuorum,
    poller: roundPoller(token, federationId),
  });
  clients.set(cacheKey, { key, client });
  return client;
}
