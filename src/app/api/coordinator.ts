// Thin typed client of the coordinator API. Same origin only: the SPA is served by the coordinator it talks to.
import type { AuditEntry, CreateFederationRequest, EnrolResponse, FederationView, InvitesResponse, JobsView, MeResponse, RoundView, UploadResponse } from '../../protocol/api.ts';
import type { PublishedModel } from '../../protocol/inference-model.ts';
import type { KeyRelayAbort, KeyRelayCommit, KeyRelayContribution, KeyRelayCreated, KeyRelayView } from '../../protocol/key-relay.ts';

const relayPath = (federationId: string, relayId?: string, step?: string) =>
  `/api/federations/${encodeURIComponent(federationId)}/key-relays${relayId ? `/${encodeURIComponent(relayId)}` : ''}${step ? `/${step}` : ''}`;
const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export type { PublishedModel };

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

async function request<T>(path: string, init: RequestInit & { token?: string; binary?: boolean } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'the coordinator cannot be reached; check the connection and try again');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string; message?: string } | null;
    throw new ApiError(response.status, body?.error ?? 'http-error', body?.message ?? `the coordinator answered ${response.status}`);
  }
  return (init.binary ? new Uint8Array(await response.arrayBuffer()) : await response.json()) as T;
}

/** Admin routes (hospital IT): the admin token from the coordinator's ADMIN_TOKEN, never a clinic token. */
export const adminApi = {
  federations(adminToken: string, signal?: AbortSignal): Promise<FederationView[]> {
    return request('/api/admin/federations', { token: adminToken, signal });
  },
  createFederation(adminToken: string, federation: CreateFederationRequest): Promise<FederationView> {
    return request('/api/admin/federations', { method: 'POST', token: adminToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify(federation) });
  },
  issueInvites(adminToken: string, federationId: string, count: number): Promise<InvitesResponse> {
    return request(`/api/admin/federations/${encodeURIComponent(federationId)}/invites`, {
      method: 'POST',
      token: adminToken,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count }),
    });
  },
  rounds(adminToken: string, federationId: string, signal?: AbortSignal): Promise<RoundView[]> {
    return request(`/api/admin/federations/${encodeURIComponent(federationId)}/rounds`, { token: adminToken, signal });
  },
  resetRound(adminToken: string, federationId: string, round: number): Promise<RoundView> {
    return request(`/api/admin/federations/${encodeURIComponent(federationId)}/rounds/${round}/reset`, { method: 'POST', token: adminToken });
  },
  /** The newest entries first (the coordinator returns at most 200). */
  audit(adminToken: string, signal?: AbortSignal): Promise<AuditEntry[]> {
    return request('/api/admin/audit', { token: adminToken, signal });
  },
  /** The job queue (pg-boss or in-process) and its dead-lettered jobs, newest first. */
  jobs(adminToken: string, signal?: AbortSignal): Promise<JobsView> {
    return request('/api/admin/jobs', { token: adminToken, signal });
  },
};

export const coordinatorApi = {
  /** Demo mode only (DEMO=on): a fresh three-clinic federation and its invite codes. */
  demoFederation(): Promise<{ federationId: string; codes: string[] }> {
    return request('/api/demo/federations', { method: 'POST' });
  },
  enrol(inviteCode: string, clinicName: string, signal?: AbortSignal): Promise<EnrolResponse> {
    return request('/api/enrol', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inviteCode, clinicName }),
      signal,
    });
  },
  me(token: string, signal?: AbortSignal): Promise<MeResponse> {
    return request('/api/me', { token, signal });
  },
  round(token: string, federationId: string, round: number, signal?: AbortSignal): Promise<RoundView> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/rounds/${round}`, { token, signal });
  },
  upload(token: string, federationId: string, round: number, bundle: Uint8Array, signal?: AbortSignal): Promise<UploadResponse> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/rounds/${round}/uploads`, {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/octet-stream' },
      body: bundle as BodyInit,
      signal,
    });
  },
  setPublicKey(token: string, publicKey: Uint8Array): Promise<{ ok: true }> {
    return request('/api/me/public-key', { method: 'PUT', token, headers: { 'content-type': 'application/octet-stream' }, body: publicKey as BodyInit });
  },
  found(token: string, federationId: string): Promise<{ ok: true }> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/founder`, { method: 'POST', token });
  },
  startKeyRelay(token: string, federationId: string, body: KeyRelayCommit): Promise<KeyRelayCreated> {
    return request(relayPath(federationId), { method: 'POST', token, ...json(body) });
  },
  keyRelays(token: string, federationId: string, signal?: AbortSignal): Promise<KeyRelayView[]> {
    return request(relayPath(federationId), { token, signal });
  },
  answerKeyRelay(token: string, federationId: string, relayId: string, body: KeyRelayContribution): Promise<{ ok: true }> {
    return request(relayPath(federationId, relayId, 'response'), { method: 'POST', token, ...json(body) });
  },
  revealKeyRelay(token: string, federationId: string, relayId: string, body: KeyRelayContribution): Promise<{ ok: true }> {
    return request(relayPath(federationId, relayId, 'reveal'), { method: 'POST', token, ...json(body) });
  },
  deliverWrappedKey(token: string, federationId: string, relayId: string, wrapped: Uint8Array): Promise<{ sha256: string }> {
    return request(relayPath(federationId, relayId, 'wrapped'), { method: 'PUT', token, headers: { 'content-type': 'application/octet-stream' }, body: wrapped as BodyInit });
  },
  wrappedKey(token: string, federationId: string, relayId: string): Promise<Uint8Array> {
    return request(relayPath(federationId, relayId, 'wrapped'), { token, binary: true });
  },
  acceptKeyRelay(token: string, federationId: string, relayId: string): Promise<{ ok: true }> {
    return request(relayPath(federationId, relayId, 'accept'), { method: 'POST', token });
  },
  /** Ends a relay and records why in the coordinator's audit log. */
  abortKeyRelay(token: string, federationId: string, relayId: string, body: KeyRelayAbort): Promise<{ ok: true }> {
    return request(relayPath(federationId, relayId, 'abort'), { method: 'POST', token, ...json(body) });
  },
  putEvaluationKey(token: string, federationId: string, kind: 'galois-keys' | 'relin-keys', envelope: Uint8Array): Promise<{ sha256: string }> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/evaluation-keys/${kind}`, {
      method: 'PUT',
      token,
      headers: { 'content-type': 'application/octet-stream' },
      body: envelope as BodyInit,
    });
  },
  putInferenceModel(token: string, federationId: string, model: Uint8Array): Promise<{ sha256: string }> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/inference-model`, {
      method: 'PUT',
      token,
      headers: { 'content-type': 'application/octet-stream' },
      body: model as BodyInit,
    });
  },
  inferenceModel(token: string, federationId: string, signal?: AbortSignal): Promise<PublishedModel> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/inference-model`, { token, signal });
  },
  /** A bundle of encrypted token groups in, a bundle of encrypted logits (groups × passes) out. */
  infer(token: string, federationId: string, groups: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/inference`, {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/octet-stream' },
      body: groups as BodyInit,
      signal,
      binary: true,
    });
  },
  aggregate(token: string, federationId: string, round: number, signal?: AbortSignal): Promise<Uint8Array> {
    return request(`/api/federations/${encodeURIComponent(federationId)}/rounds/${round}/aggregate`, { token, signal, binary: true });
  },
};
