// Talking to a real cipherpath coordinator from Node (the caller starts it, e.g. src/coordinator/embedded.ts, so this
// room does not depend on the server): create a federation and enrol clinics through the admin and invite routes, and run rounds through the upload / round / aggregate routes,
// the same flow as the browser's src/app/stores/round.ts. Only ciphertext bundles ever reach the coordinator.
import { bytesEqual } from '../common/bytes-equal.ts';
import type { EnrolResponse, FederationView, InvitesResponse, RoundView, UploadResponse } from '../protocol/api.ts';
import type { CiphertextTransport, TransportRound } from './channels.ts';
import type { StrategyName } from '../protocol/vocabulary.ts';

/** A running coordinator the simulator may use: its URL, an admin token, and how to stop it. */
export interface LocalCoordinator {
  url: string;
  adminToken: string;
  close(): Promise<void>;
}

async function call<T>(base: string, path: string, init: RequestInit & { token?: string; binary?: boolean }): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(new URL(path, base), { ...init, headers });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string; message?: string } | null;
    throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${response.status} ${body?.error ?? ''}: ${body?.message ?? response.statusText}`);
  }
  return (init.binary ? new Uint8Array(await response.arrayBuffer()) : await response.json()) as T;
}

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export interface EnrolledFederation {
  federationId: string;
  /** Bearer token of clinic i at index i. */
  clinicTokens: string[];
  roundSeconds: number;
}

export interface FederationSpec {
  name: string;
  strategy: StrategyName;
  clinics: number;
  /** Uploads needed before the deadline may close a round (default: every clinic). */
  minClinics?: number;
  /** Round deadline; rounds with every clinic in close at once (default 3600). */
  roundSeconds?: number;
}

/** Creates an agg-v1 federation and enrols `clinics` clinics through one-time invites. */
export async function enrolFederation(coordinator: LocalCoordinator, spec: FederationSpec): Promise<EnrolledFederation> {
  const { url, adminToken } = coordinator;
  const roundSeconds = spec.roundSeconds ?? 3600;
  const federation = await call<FederationView>(url, '/api/admin/federations', {
    method: 'POST',
    token: adminToken,
    ...json({ name: spec.name, presetId: 'agg-v1', minClinics: spec.minClinics ?? spec.clinics, strategy: spec.strategy, roundSeconds }),
  });
  const invites = await call<InvitesResponse>(url, `/api/admin/federations/${federation.id}/invites`, {
    method: 'POST',
    token: adminToken,
    ...json({ count: spec.clinics }),
  });
  const clinicTokens: string[] = [];
  for (const [i, inviteCode] of invites.codes.entries()) {
    const enrolled = await call<EnrolResponse>(url, '/api/enrol', { method: 'POST', ...json({ inviteCode, clinicName: `clinic ${i}` }) });
    clinicTokens.push(enrolled.token);
  }
  return { federationId: federation.id, clinicTokens, roundSeconds };
}

const POLL_MS = 20;
/** Slack past the round deadline before a round that never closes is reported. */
const CLOSE_GRACE_MS = 30_000;

/** Runs rounds through the coordinator's HTTP routes; every enrolled clinic downloads every aggregate. */
export class CoordinatorTransport implements CiphertextTransport {
  readonly #url: string;
  readonly #federation: EnrolledFederation;

  constructor(coordinator: LocalCoordinator, federation: EnrolledFederation) {
    this.#url = coordinator.url;
    this.#federation = federation;
  }

  async exchange(round: number, uploads: ReadonlyMap<number, Uint8Array>): Promise<TransportRound> {
    const { federationId, clinicTokens, roundSeconds } = this.#federation;
    const base = `/api/federations/${federationId}/rounds/${round}`;
    const tokenOf = (clinic: number): string => {
      const token = clinicTokens[clinic];
      if (!token) throw new Error(`clinic ${clinic} is not enrolled in federation ${federationId}`);
      return token;
    };

    const uploadStarted = performance.now();
    for (const [clinic, bundle] of uploads) {
      const reply = await call<UploadResponse>(this.#url, `${base}/uploads`, {
        method: 'POST',
        token: tokenOf(clinic),
        headers: { 'content-type': 'application/octet-stream' },
        body: bundle as BodyInit,
      });
      if (reply.round !== round || reply.duplicate) throw new Error(`clinic ${clinic}: upload to round ${round} answered ${JSON.stringify(reply)}`);
    }
    const uploadMs = performance.now() - uploadStarted;

    const waitStarted = performance.now();
    const anyClinic = tokenOf([...uploads.keys()][0] as number);
    for (;;) {
      const view = await call<RoundView>(this.#url, base, { token: anyClinic });
      if (view.status === 'closed') break;
      if (performance.now() - waitStarted > roundSeconds * 1000 + CLOSE_GRACE_MS) {
        throw new Error(`round ${round} of ${federationId} is still '${view.status}' (${view.submitted.length}/${view.enrolled} uploads, quorum ${view.quorum})`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const aggregateMs = performance.now() - waitStarted;

    const downloadStarted = performance.now();
    let aggregate: Uint8Array | undefined;
    for (const [clinic, token] of clinicTokens.entries()) {
      const bytes = await call<Uint8Array>(this.#url, `${base}/aggregate`, { token, binary: true });
      if (aggregate && !bytesEqual(aggregate, bytes)) throw new Error(`clinic ${clinic} downloaded a different aggregate for round ${round}`);
      aggregate = bytes;
    }
    return {
      aggregate: aggregate as Uint8Array,
      downloads: clinicTokens.length,
      uploadMs,
      aggregateMs,
      downloadMs: performance.now() - downloadStarted,
    };
  }
}
