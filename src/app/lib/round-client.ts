// src/fl's RoundClient bound to this browser: the SPA's coordinator client for the round routes and the HE worker
// for encryption (the same src/he/aggregate.ts functions the simulator calls in Node). Only bindings live here; the
// round itself (contribute, wait, download, verify) is src/fl/round-client.ts.
import type { PresetId } from '../../he/params.ts';
import { PRESETS } from '../../he/params.ts';
import { markerSecret } from '../../fl/inclusion.ts';
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
  secretKey: Uint8Array;
}

const clients = new Map<string, { secretKey: Uint8Array; client: RoundClient }>();

/** The one RoundClient of this clinic in this federation (so every caller shares its per-round poller). */
export function roundClient(access: ClinicAccess): RoundClient {
  const key = `${access.federationId}#${access.clinicId}#${access.token}#${access.pinnedQuorum}`;
  const known = clients.get(key);
  if (known && known.secretKey === access.secretKey) return known.client;
  const { token, federationId, presetId, secretKey } = access;
  const slots = PRESETS[presetId].polyModulusDegree / 2;
  const client = new RoundClient({
    api: {
      round: (round, signal) => coordinatorApi.round(token, federationId, round, signal),
      upload: (round, bundle, signal) => coordinatorApi.upload(token, federationId, round, bundle, signal),
      aggregate: (round, signal) => coordinatorApi.aggregate(token, federationId, round, signal),
    },
    crypto: {
      ciphertextCount: (length) => Math.ceil((length + 1) / slots),
      encrypt: (values, bounds) => heWorker().encryptWeightedContribution(presetId, secretKey, federationId, values, 1, bounds),
      async decrypt(parts, length) {
        const { mean, totalCount } = await heWorker().decryptWeightedMean(presetId, secretKey, parts, length);
        return { sum: mean.map((v) => v * totalCount), contributions: totalCount };
      },
    },
    federationId,
    clinicId: access.clinicId,
    pinnedQuorum: access.pinnedQuorum,
    markerSecret: markerSecret(secretKey, federationId),
    poller: roundPoller(token, federationId),
  });
  clients.set(key, { secretKey, client });
  return client;
}
