// What every route plugin is given, and the few checks several resources share (membership, key holding, binary
// bodies, the round view). Route plugins receive this as their options; nothing here talks HTTP beyond HttpError.
import type { FastifyRequest } from 'fastify';
import type { HeNodePool } from '../he/node-pool.ts';
import type { RoundView } from '../protocol/api.ts';
import type { CoordinatorConfig } from './config.ts';
import { HttpError } from './errors.ts';
import type { InferenceService } from './inference.ts';
import type { JobQueue } from './jobs/types.ts';
import type { Maintenance } from './maintenance.ts';
import type { Metrics } from './metrics.ts';
import { clinicOf } from './plugins/auth.ts';
import type { RoundRunner } from './rounds.ts';
import type { BlobStore, ClinicRow, FederationRow, Store } from './stores/types.ts';

export interface CoordinatorContext {
  config: CoordinatorConfig;
  store: Store;
  blobs: BlobStore;
  pool: HeNodePool;
  rounds: RoundRunner;
  jobs: JobQueue;
  metrics: Metrics;
  inference: InferenceService;
  maintenance: Maintenance;
}

/** The calling clinic and the federation it names, which must be its own. */
export async function memberFederation(store: Store, request: FastifyRequest, fid: string): Promise<{ clinic: ClinicRow; federation: FederationRow }> {
  const clinic = clinicOf(request);
  const federation = await store.getFederation(fid);
  // A clinic learns nothing about federations it does not belong to, not even whether they exist.
  if (!federation || clinic.federationId !== fid) throw new HttpError(404, 'not-found', `federation ${fid} not found`);
  return { clinic, federation };
}

export function requireKeyHolder(clinic: ClinicRow, action: string): void {
  if (!clinic.holdsKey) throw new HttpError(403, 'not-key-holder', `only a clinic holding the federation key may ${action}`);
}

export function binaryBody(request: FastifyRequest): Uint8Array {
  if (!Buffer.isBuffer(request.body)) throw new HttpError(415, 'unsupported-media-type', 'this route takes an application/octet-stream body');
  return new Uint8Array(request.body.buffer, request.body.byteOffset, request.body.byteLength);
}

export async function federationOr404(store: Store, fid: string): Promise<FederationRow> {
  const federation = await store.getFederation(fid);
  if (!federation) throw new HttpError(404, 'not-found', `federation ${fid} not found`);
  return federation;
}

export async function roundView(store: Store, federation: FederationRow, round: number): Promise<RoundView> {
  const state = await store.getRound(federation.id, round);
  if (!state) throw new HttpError(404, 'not-found', `round ${round} of ${federation.id} does not exist yet (current round: ${federation.currentRound})`);
  const uploads = await store.uploadsFor(federation.id, round);
  return {
    federationId: federation.id,
    round,
    status: state.status,
    quorum: federation.minClinics,
    enrolled: (await store.clinicsOf(federation.id)).length,
    deadlineAt: state.deadlineAt,
    submitted: uploads.map((u) => u.clinicName),
    submittedIds: uploads.filter((u) => !u.quarantined).map((u) => u.clinicId),
    ciphertextCount: state.ciphertextCount,
    spec: state.spec,
    quarantined: uploads.filter((u) => u.quarantined).map((u) => u.clinicName),
    failure: state.failure,
  };
}
