// Row mapping shared by the SQL stores (node:sqlite and Postgres; aliases quoted because Postgres folds unquoted names to lower case): the column lists each query selects and the rows they become.
import type { RoundStatus } from '../../protocol/api.ts';
import type { Row } from './sql-driver.ts';
import type { ClinicRow, FederationRow, RoundRow } from './types.ts';


export const FEDERATION_COLUMNS =
  'id, name, preset_id AS "presetId", strategy, min_clinics AS "minClinics", round_seconds AS "roundSeconds", current_round AS "currentRound", ciphertext_count AS "ciphertextCount", marker_slots AS "markerSlots", expires_at AS "expiresAt"';
export const CLINIC_COLUMNS = 'id, federation_id AS "federationId", name, holds_key AS "holdsKey", public_key AS "publicKey"';
export const ROUND_COLUMNS =
  'federation_id AS "federationId", round, status, deadline_at AS "deadlineAt", aggregate_sha AS "aggregateSha", ciphertext_count AS "ciphertextCount", spec_ciphertext_count AS "specCount", scale_bits AS "scaleBits", marker_slots AS "markerSlots", failure';

export function federation(r: Row): FederationRow {
  const { expiresAt, ...rest } = r;
  return { ...(rest as unknown as FederationRow), demo: expiresAt !== null };
}

export function clinic(r: Row | undefined): ClinicRow | undefined {
  if (!r) return undefined;
  const key = r.publicKey as Uint8Array | null;
  return { id: r.id as string, federationId: r.federationId as string, name: r.name as string, holdsKey: r.holdsKey === 1, publicKey: key ? new Uint8Array(key) : null };
}

export function round(r: Row | undefined, presetId: string): RoundRow | undefined {
  if (!r) return undefined;
  return {
    federationId: r.federationId as string,
    round: r.round as number,
    status: r.status as RoundStatus,
    deadlineAt: r.deadlineAt as string,
    aggregateSha: (r.aggregateSha as string | null) ?? null,
    ciphertextCount: (r.ciphertextCount as number | null) ?? null,
    spec: { presetId: presetId as RoundRow['spec']['presetId'], ciphertextCount: (r.specCount as number | null) ?? null, scaleBits: (r.scaleBits as number | null) ?? null, markerSlots: r.markerSlots as number },
    failure: (r.failure as string | null) ?? null,
  };
}
