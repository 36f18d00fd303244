// Talking to a real cipherpath coordinator from Node (the caller starts it, e.g. src/coordinator/embedded.ts, or
// names running replicas, so this room does not depend on the server): create a federation and enrol clinics through the admin and invite routes,
// bind the round routes for a RoundClient (coordinatorRoundApi), and sum a simulated round through one RoundClient
// per clinic (CoordinatorChannel): the same client the browser's round store uses. Only ciphertext bundles ever
// reach the coordinator.
import type { AggregationRound } from '../he/aggregate.ts';
import type { HeContext } from '../he/context.ts';
import type { EnrolResponse, FederationView, InvitesResponse, RoundView, UploadResponse } from '../protocol/api.ts';
import type { ChannelRound, SumChannel } from './channels.ts';
import { type RoundApi, RoundClient, type VerifiedAggregate } from './round-client.ts';
import { contextCrypto } from './round-crypto.ts';
import { ReplicaRoute, describeFetchError } from './replicas.ts';
import type { StrategyName } from '../protocol/vocabulary.ts';

/** A running coordinator the simulator may use: its URL, an admin token, and how to stop it. */
export interface LocalCoordinator {
  url: string;
  /** Replicas sharing one store, `url` among them: clinic i starts on replicas[i mod n] (default: `url` alone). */
  replicas?: readonly string[];
  adminToken: string;
  close(): Promise<void>;
}

/** The route of clinic `clinic` (or, for admin calls, of the first replica) over the coordinator's replicas. */
export function replicaRoute(coordinator: LocalCoordinator, clinic = 0): ReplicaRoute {
  return new ReplicaRoute(coordinator.replicas ?? [coordinator.url], clinic);
}

interface CallInit extends RequestInit {
  token?: string;
  binary?: boolean;
  /** Safe to send again when the connection was cut mid-call (default: GET only). */
  repeatable?: boolean;
}

async function call<T>(route: ReplicaRoute, path: string, init: CallInit): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  // A fresh connection per request: the simulated clinics train and encrypt synchronously, often in the process that
  // hosts the coordinator, so a block longer than the server's keep-alive (72 s) expires the server's timer and
  // undici's earlier idle timer together; the next request then goes out on the socket the server closes before
  // reading it (fetch failed, cause ECONNRESET). Undici never retries a POST, and a new loopback connection is cheap.
  headers.set('connection', 'close');
  const response = await route.fetch(path, { ...init, headers }, init.repeatable ?? (init.method ?? 'GET') === 'GET');
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string; message?: string } | null;
    throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${response.status} ${body?.error ?? ''}: ${body?.message ?? response.statusText}`);
  }
  return (init.binary ? new Uint8Array(await response.arrayBuffer()) : await response.json()) as T;
}

/**
 * Coordinator replicas already running on one store (a deployment): each URL must answer and take the admin token
 * before any clinic trains, so a wrong URL or token is named at once. close() leaves the replicas running.
 */
export async function connectReplicas(urls: readonly string[], adminToken: string): Promise<LocalCoordinator> {
  for (const url of urls) {
    try {
      await call<unknown>(new ReplicaRoute([url]), '/api/admin/federations', { token: adminToken });
    } catch (e) {
      throw new Error(`coordinator ${url}: ${describeFetchError(e)}`, { cause: e });
    }
  }
  return { url: urls[0] as string, replicas: urls, adminToken, close: async () => {} };
}

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export interface EnrolledFederation {
  federationId: string;
  /** Bearer token of clinic i at index i. */
  clinicTokens: string[];
  /** Coordinator id of clinic i at index i. */
  clinicIds: string[];
  minClinics: number;
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

/** Creates an agg-v1 federation and enrols `clinics` clinics through one-time invites, clinic i on its own route. */
export async function enrolFederation(coordinator: LocalCoordinator, spec: FederationSpec): Promise<EnrolledFederation> {
  const { adminToken } = coordinator;
  const admin = replicaRoute(coordinator);
  const roundSeconds = spec.roundSeconds ?? 3600;
  const federation = await call<FederationView>(admin, '/api/admin/federations', {
    method: 'POST',
    token: adminToken,
    ...json({ name: spec.name, presetId: 'agg-v1', minClinics: spec.minClinics ?? spec.clinics, strategy: spec.strategy, roundSeconds }),
  });
  const invites = await call<InvitesResponse>(admin, `/api/admin/federations/${federation.id}/invites`, {
    method: 'POST',
    token: adminToken,
    ...json({ count: spec.clinics }),
  });
  const clinicTokens: string[] = [];
  const clinicIds: string[] = [];
  for (const [i, inviteCode] of invites.codes.entries()) {
    const enrolled = await call<EnrolResponse>(replicaRoute(coordinator, i), '/api/enrol', { method: 'POST', ...json({ inviteCode, clinicName: `clinic ${i}` }) });
    clinicTokens.push(enrolled.token);
    clinicIds.push(enrolled.clinicId);
  }
  return { federationId: federation.id, clinicTokens, clinicIds, minClinics: federation.minClinics, roundSeconds };
}

/**
 * The round routes of `federationId` as clinic `token` calls them, at one URL or over a route's replicas. An upload
 * is repeatable: the same bundle sent again is recorded as a duplicate of the first, never as a second upload.
 */
export function coordinatorRoundApi(at: string | ReplicaRoute, token: string, federationId: string): RoundApi {
  const route = typeof at === 'string' ? new ReplicaRoute([at]) : at;
  const base = (round: number) => `/api/federations/${encodeURIComponent(federationId)}/rounds/${round}`;
  return {
    round: (round, signal) => call<RoundView>(route, base(round), { token, ...(signal ? { signal } : {}) }),
    upload: (round, bundle, signal) =>
      call<UploadResponse>(route, `${base(round)}/uploads`, { method: 'POST', token, repeatable: true, headers: { 'content-type': 'application/octet-stream' }, body: bundle as BodyInit, ...(signal ? { signal } : {}) }),
    aggregate: (round, signal) => call<Uint8Array>(route, `${base(round)}/aggregate`, { token, binary: true, ...(signal ? { signal } : {}) }),
  };
}

/** Status poll period of the simulated clinics (the coordinator is local). */
const POLL_MS = 20;

export interface CoordinatorChannelOptions {
  ctx: HeContext;
  secretKey: Uint8Array;
  coordinator: LocalCoordinator;
  federation: EnrolledFederation;
  domain?: 'encrypted' | 'gradient-encryption';
  /** Ciphertexts per clinic counted in the bytes but not sent (gradient-encryption's transformer block). */
  accountedCiphertexts?: number;
}

/**
 * The encrypted domain over the real coordinator: each present clinic contributes through its own RoundClient, one
 * poller waits for the round to close, and every enrolled clinic downloads, decrypts and verifies the aggregate
 * (an inclusion failure at any clinic fails the run). Every clinic's verified sum is the same; the first is returned.
 */
export class CoordinatorChannel implements SumChannel {
  readonly domain: 'encrypted' | 'gradient-encryption';
  readonly #opts: CoordinatorChannelOptions;
  readonly #clients: RoundClient[];
  readonly #routes: ReplicaRoute[];

  constructor(opts: CoordinatorChannelOptions) {
    this.#opts = opts;
    this.domain = opts.domain ?? 'encrypted';
    const { ctx, secretKey, coordinator, federation } = opts;
    const crypto = contextCrypto(ctx, secretKey, federation.federationId);
    this.#routes = federation.clinicTokens.map((_, i) => replicaRoute(coordinator, i));
    this.#clients = federation.clinicTokens.map(
      (token, i) =>
        new RoundClient({
          api: coordinatorRoundApi(this.#routes[i] as ReplicaRoute, token, federation.federationId),
          crypto,
          federationId: federation.federationId,
          clinicId: federation.clinicIds[i] as string,
          pinnedQuorum: federation.minClinics,
          pollMs: POLL_MS,
        }),
    );
  }

  async sum(round: number, contributions: ReadonlyMap<number, Float64Array>, bounds: Required<AggregationRound>): Promise<ChannelRound> {
    const clientOf = (clinic: number): RoundClient => {
      const client = this.#clients[clinic];
      if (!client) throw new Error(`clinic ${clinic} is not enrolled in federation ${this.#opts.federation.federationId}`);
      return client;
    };
    let length = 0;
    let encryptAndUploadMs = 0;
    let uploadMs = 0;
    let bytesUp = 0;
    let sent = 0;
    for (const [clinic, values] of contributions) {
      length = values.length;
      const started = performance.now();
      const repeatedBefore = this.#routes[clinic]?.repeated ?? 0;
      const receipt = await clientOf(clinic).contribute(round, values, bounds);
      // A duplicate is expected only when a cut upload was sent again (the first attempt had been stored).
      if (receipt.duplicate && this.#routes[clinic]?.repeated === repeatedBefore) throw new Error(`clinic ${clinic}: the coordinator already held an upload for round ${round}`);
      encryptAndUploadMs += performance.now() - started;
      uploadMs += receipt.ms;
      bytesUp += receipt.bytes;
      sent = receipt.ciphertexts;
    }
    const waitStarted = performance.now();
    const deadline = AbortSignal.timeout((this.#opts.federation.roundSeconds + 30) * 1000);
    await clientOf([...contributions.keys()][0] as number).wait(round, { signal: deadline });
    const aggregateMs = performance.now() - waitStarted;
    const verified: VerifiedAggregate[] = [];
    for (const [clinic, client] of this.#clients.entries()) verified.push(await client.download(round, length, bounds, { contributed: contributions.has(clinic) }));
    const first = verified[0];
    if (!first) throw new Error('no clinic is enrolled');
    const extra = this.#opts.accountedCiphertexts ?? 0;
    const present = contributions.size;
    const mean = (f: (v: (typeof verified)[number]) => number) => verified.reduce((n, v) => n + f(v), 0) / verified.length;
    return {
      sum: first.sum,
      bytesUpPerClinic: Math.round((bytesUp / present) * (1 + extra / sent)),
      bytesDownPerClinic: Math.round(first.bytes * (1 + extra / sent)),
      ciphertextsPerClinic: sent + extra,
      times: {
        encryptMs: (encryptAndUploadMs - uploadMs) / present,
        uploadMs: uploadMs / present,
        aggregateMs,
        downloadMs: mean((v) => v.downloadMs),
        decryptMs: mean((v) => v.decryptMs),
      },
    };
  }
}
