// The coordinator's HTTP surface: JSON + binary API under /api, the built SPA everywhere else, one port.
// Every route is declared once in a table that both registers it and documents it (/api/openapi.json). Every
// request is validated (JSON schema or binary parser with size caps); every expected failure is a 4xx {error, message}.
// Nothing here sees a key or a token in clear: uploads are ciphertext envelopes, keys travel wrapped.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HeError } from '../he/errors.ts';
import type { HeNodePool } from '../he/node-pool.ts';
import { PRESETS, type PresetId, presetHash } from '../he/params.ts';
import { decodeEnvelope, type EnvelopeKind } from '../protocol/envelope.ts';
import { checkWrappedShape } from '../custody/keywrap.ts';
import { PUBLIC_KEY_BYTES } from '../custody/identity.ts';
import { type CreateFederationRequest, type EnrolRequest, type KeyRequestView, type RoundView, schemas } from '../protocol/api.ts';
import { BUNDLE_LIMITS, BundleError, decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { decodeInferenceModel, InferenceModelError } from '../protocol/inference-model.ts';
import type { CoordinatorConfig } from './config.ts';
import { SECURITY_HEADERS } from './headers.ts';
import { Metrics } from './metrics.ts';
import { type Auth, openApiDocument, type RouteDoc } from './openapi.ts';
import { InferenceInputError, InferenceService, InferenceUnavailable } from './inference.ts';
import { RateLimiter } from './ratelimit.ts';
import { RoundRunner } from './rounds.ts';
import { bearerToken, newInviteCode, newSecret, tokenMatchesHash } from './security.ts';
import { type ClinicRow, type FederationRow, type Store, sha256Hex } from './store.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface CoordinatorDeps {
  config: CoordinatorConfig;
  store: Store;
  pool: HeNodePool;
  adminTokenHash: string;
}

const JSON_BODY_LIMIT = 64 * 1024;
const EVALUATION_KEY_LIMIT = 64 * 1024 * 1024;
const VERSION = '0.1.0';

interface Caller {
  clinic: ClinicRow | null;
}

interface Route extends RouteDoc {
  bodyLimit?: number;
  handler: (request: FastifyRequest, reply: FastifyReply, caller: Caller) => Promise<unknown>;
}

const b64 = (bytes: Uint8Array | null): string | null => (bytes ? Buffer.from(bytes).toString('base64') : null);


function randomId(prefix: string): string {
  return `${prefix}-${newSecret(9).toLowerCase().replace(/[^a-z0-9]/g, '0')}`;
}

export function createFederationWithInvites(store: Store, req: CreateFederationRequest, inviteCount: number): { federation: FederationRow; codes: string[] } {
  const federation = store.createFederation({
    id: randomId('fed'),
    name: req.name,
    presetId: req.presetId,
    strategy: req.strategy ?? 'sum',
    minClinics: req.minClinics,
    roundSeconds: req.roundSeconds ?? 3600,
  });
  const codes = Array.from({ length: inviteCount }, () => newInviteCode());
  for (const code of codes) store.addInvite(federation.id, code);
  store.audit('admin', 'federation.created', { federationId: federation.id, name: req.name, invites: inviteCount });
  return { federation, codes };
}

function binaryBody(request: FastifyRequest): Uint8Array {
  if (!Buffer.isBuffer(request.body)) throw new HttpError(415, 'unsupported-media-type', 'this route takes an application/octet-stream body');
  return new Uint8Array(request.body.buffer, request.body.byteOffset, request.body.byteLength);
}

export async function buildServer(deps: CoordinatorDeps): Promise<{ app: FastifyInstance; rounds: RoundRunner; metrics: Metrics }> {
  const { config, store, pool } = deps;
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const metrics = new Metrics();
  const rounds = new RoundRunner(store, pool, app.log, metrics);
  const limiter = new RateLimiter(config.rateLimitPerSecond, config.rateLimitBurst);
  const inference = new InferenceService(store, pool);

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: BUNDLE_LIMITS.maxTotalBytes }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const token = bearerToken(request.headers.authorization);
    const wait = limiter.take(token ? `t:${sha256Hex(token)}` : `ip:${request.ip}`);
    if (wait > 0) {
      metrics.inc('cipherpath_rate_limited_total');
      reply.header('retry-after', String(wait));
      throw new HttpError(429, 'rate-limited', `too many requests; retry in ${wait} s`);
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.inc('cipherpath_http_requests_total', { route: request.routeOptions.url ?? 'unmatched', status: `${Math.floor(reply.statusCode / 100)}xx` });
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof HttpError) return reply.status(error.status).send({ error: error.code, message: error.message });
    if (error instanceof BundleError) return reply.status(400).send({ error: `bundle-${error.code}`, message: error.message });
    if (error instanceof InferenceModelError) return reply.status(400).send({ error: 'invalid-model', message: error.message });
    if (error instanceof InferenceInputError) return reply.status(400).send({ error: 'invalid-inference-input', message: error.message });
    if (error instanceof InferenceUnavailable) return reply.status(409).send({ error: 'inference-unavailable', message: error.message });
    const e = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
    if (e.validation) return reply.status(400).send({ error: 'invalid-request', message: e.message ?? 'invalid request' });
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: (e.code ?? 'bad-request').toLowerCase(), message: e.message ?? 'bad request' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error; the request was not applied' });
  });

  const authenticate = (request: FastifyRequest, auth: Auth): Caller => {
    if (auth === 'none') return { clinic: null };
    const token = bearerToken(request.headers.authorization);
    if (auth === 'admin') {
      if (!token || !tokenMatchesHash(token, deps.adminTokenHash)) throw new HttpError(401, 'unauthorized', 'the admin bearer token is required');
      return { clinic: null };
    }
    const clinic = token ? store.clinicByTokenHash(sha256Hex(token)) : undefined;
    if (!clinic) throw new HttpError(401, 'unauthorized', 'a valid clinic bearer token is required');
    return { clinic };
  };

  const memberFederation = (caller: Caller, fid: string): { clinic: ClinicRow; federation: FederationRow } => {
    const clinic = caller.clinic as ClinicRow;
    const federation = store.getFederation(fid);
    // A clinic learns nothing about federations it does not belong to, not even whether they exist.
    if (!federation || clinic.federationId !== fid) throw new HttpError(404, 'not-found', `federation ${fid} not found`);
    return { clinic, federation };
  };

  const requireKeyHolder = (clinic: ClinicRow, action: string): void => {
    if (!clinic.holdsKey) throw new HttpError(403, 'not-key-holder', `only a clinic holding the federation key may ${action}`);
  };

  const roundView = (federation: FederationRow, round: number): RoundView => {
    const state = store.getRound(federation.id, round);
    if (!state) throw new HttpError(404, 'not-found', `round ${round} of ${federation.id} does not exist yet (current round: ${federation.currentRound})`);
    const uploads = store.uploadsFor(federation.id, round);
    return {
      federationId: federation.id,
      round,
      status: state.status,
      quorum: federation.minClinics,
      enrolled: store.clinicsOf(federation.id).length,
      deadlineAt: state.deadlineAt,
      submitted: uploads.map((u) => u.clinicName),
      submittedIds: uploads.map((u) => u.clinicId),
      ciphertextCount: state.ciphertextCount,
    };
  };

  type P = { fid: string; round: number; kind: string; clinicId: string };
  const params = (request: FastifyRequest): P => request.params as P;

  const routes: Route[] = [
    {
      method: 'GET',
      url: '/healthz',
      summary: 'liveness',
      auth: 'none',
      response: 'json',
      handler: async () => ({ ok: true }),
    },
    {
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics',
      auth: 'none',
      response: 'text',
      handler: async (_req, reply) => {
        reply.type('text/plain; version=0.0.4');
        return metrics.render();
      },
    },
    {
      method: 'GET',
      url: '/api/openapi.json',
      summary: 'this document',
      auth: 'none',
      response: 'json',
      handler: async () => openApiDocument(routes, VERSION),
    },
    // --- admin -------------------------------------------------------------------------------------------------------
    {
      method: 'POST',
      url: '/api/admin/federations',
      summary: 'create a federation',
      auth: 'admin',
      body: schemas.createFederationRequest,
      response: 'json',
      handler: async (request, reply) => {
        reply.status(201);
        return createFederationWithInvites(store, request.body as CreateFederationRequest, 0).federation;
      },
    },
    {
      method: 'GET',
      url: '/api/admin/federations',
      summary: 'list federations',
      auth: 'admin',
      response: 'json',
      handler: async () => store.listFederations(),
    },
    {
      method: 'POST',
      url: '/api/admin/federations/:fid/invites',
      summary: 'issue one-time invite codes',
      auth: 'admin',
      params: schemas.federationParams,
      body: schemas.invitesRequest,
      response: 'json',
      handler: async (request, reply) => {
        const federation = store.getFederation(params(request).fid);
        if (!federation) throw new HttpError(404, 'not-found', `federation ${params(request).fid} not found`);
        const codes = Array.from({ length: (request.body as { count: number }).count }, () => newInviteCode());
        for (const code of codes) store.addInvite(federation.id, code);
        store.audit('admin', 'invites.issued', { federationId: federation.id, count: codes.length });
        reply.status(201);
        return { federationId: federation.id, codes };
      },
    },
    {
      method: 'GET',
      url: '/api/admin/federations/:fid/rounds',
      summary: 'rounds of a federation',
      auth: 'admin',
      params: schemas.federationParams,
      response: 'json',
      handler: async (request) => {
        const federation = store.getFederation(params(request).fid);
        if (!federation) throw new HttpError(404, 'not-found', `federation ${params(request).fid} not found`);
        return Array.from({ length: federation.currentRound }, (_, i) => roundView(federation, i + 1));
      },
    },
    {
      method: 'GET',
      url: '/api/admin/audit',
      summary: 'the hash-chained audit log, newest first',
      auth: 'admin',
      response: 'json',
      handler: async () => store.auditLog(),
    },
    {
      method: 'POST',
      url: '/api/demo/federations',
      summary: 'demo mode only (DEMO=on): a fresh three-clinic demo federation with its invite codes',
      auth: 'none',
      response: 'json',
      handler: async (_request, reply) => {
        if (!config.demo) throw new HttpError(404, 'demo-disabled', 'demo mode is off on this coordinator (DEMO=off)');
        const { federation, codes } = createFederationWithInvites(store, { name: 'Three-clinic demo', presetId: 'agg-v1', strategy: 'prototypes', minClinics: 3, roundSeconds: 600 }, 3);
        reply.status(201);
        return { federationId: federation.id, codes };
      },
    },
    // --- clinics -------------------------------------------------------------------------------------------------------
    {
      method: 'POST',
      url: '/api/enrol',
      summary: 'redeem a one-time invite; returns the clinic bearer token once',
      auth: 'none',
      body: schemas.enrolRequest,
      response: 'json',
      handler: async (request, reply) => {
        const body = request.body as EnrolRequest;
        const token = newSecret(32);
        const clinic = store.redeemInvite(body.inviteCode, { id: randomId('cl'), name: body.clinicName, tokenHash: sha256Hex(token) });
        if (!clinic) throw new HttpError(403, 'invalid-invite', 'this invite code is unknown or has already been used');
        store.audit(clinic.id, 'clinic.enrolled', { federationId: clinic.federationId, name: clinic.name });
        reply.status(201);
        return { clinicId: clinic.id, federationId: clinic.federationId, token };
      },
    },
    {
      method: 'GET',
      url: '/api/me',
      summary: 'this clinic and its federation',
      auth: 'clinic',
      response: 'json',
      handler: async (_request, _reply, caller) => {
        const { clinic, federation } = memberFederation(caller, (caller.clinic as ClinicRow).federationId);
        return {
          clinicId: clinic.id,
          clinicName: clinic.name,
          holdsKey: clinic.holdsKey,
          keyHolders: store.keyHolderCount(federation.id),
          federation,
        };
      },
    },
    {
      method: 'PUT',
      url: '/api/me/public-key',
      summary: "set this clinic's ECDH P-256 public key (65 raw bytes) used for key relay",
      auth: 'clinic',
      body: 'binary',
      response: 'json',
      handler: async (request, _reply, caller) => {
        const key = binaryBody(request);
        if (key.byteLength !== PUBLIC_KEY_BYTES || key[0] !== 4) throw new HttpError(400, 'invalid-public-key', `a public key is ${PUBLIC_KEY_BYTES} raw bytes starting with 0x04`);
        const clinic = caller.clinic as ClinicRow;
        store.setClinicPublicKey(clinic.id, key);
        store.audit(clinic.id, 'clinic.public-key', { sha256: sha256Hex(key) });
        return { ok: true };
      },
    },
    {
      method: 'POST',
      url: '/api/federations/:fid/founder',
      summary: 'become the first key holder of a federation that has none (the founder created the keys locally)',
      auth: 'clinic',
      params: schemas.federationParams,
      response: 'json',
      handler: async (request, _reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        if (!clinic.publicKey) throw new HttpError(409, 'no-public-key', 'set this clinic’s public key first (PUT /api/me/public-key)');
        const taken = store.transaction(() => {
          if (store.keyHolderCount(federation.id) > 0) return true;
          store.markKeyHolder(clinic.id);
          return false;
        });
        if (taken) throw new HttpError(409, 'already-founded', 'this federation already has a key holder; request the key from them instead');
        store.audit(clinic.id, 'federation.founded', { federationId: federation.id });
        return { ok: true };
      },
    },
    {
      method: 'PUT',
      url: '/api/federations/:fid/evaluation-keys/:kind',
      summary: 'upload an evaluation key envelope (galois-keys or relin-keys); key holders only',
      auth: 'clinic',
      params: schemas.evaluationKeyParams,
      body: 'binary',
      bodyLimit: EVALUATION_KEY_LIMIT,
      response: 'json',
      handler: async (request, _reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        requireKeyHolder(clinic, 'publish evaluation keys');
        const bytes = binaryBody(request);
        try {
          // Header checks here; SEAL's own validity check runs when the inference worker loads the key.
          decodeEnvelope(bytes, { kind: params(request).kind as EnvelopeKind, federationId: federation.id, presetHash: await presetHash(PRESETS['inf-v1']), maxBytes: EVALUATION_KEY_LIMIT });
        } catch (e) {
          throw new HttpError(400, 'invalid-evaluation-key', (e as Error).message);
        }
        const sha = store.putBlob(bytes);
        store.putEvaluationKey(federation.id, params(request).kind, sha, clinic.id);
        store.audit(clinic.id, 'evaluation-key.published', { federationId: federation.id, kind: params(request).kind, sha256: sha });
        return { sha256: sha };
      },
    },
    {
      method: 'POST',
      url: '/api/federations/:fid/key-requests',
      summary: 'ask the key holders for the federation key (needs this clinic’s public key)',
      auth: 'clinic',
      params: schemas.federationParams,
      response: 'json',
      handler: async (request, reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        if (clinic.holdsKey) throw new HttpError(409, 'already-holds-key', 'this clinic already holds the federation key');
        if (!clinic.publicKey) throw new HttpError(409, 'no-public-key', 'set this clinic’s public key first (PUT /api/me/public-key)');
        store.requestKey(federation.id, clinic.id);
        store.audit(clinic.id, 'key.requested', { federationId: federation.id });
        reply.status(201);
        return { ok: true };
      },
    },
    {
      method: 'GET',
      url: '/api/federations/:fid/key-requests',
      summary: 'key requests: all of them for key holders, only its own for any other clinic',
      auth: 'clinic',
      params: schemas.federationParams,
      response: 'json',
      handler: async (request, _reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        const visible = store.keyRequests(federation.id).filter((r) => clinic.holdsKey || r.requesterId === clinic.id);
        return visible.map((r): KeyRequestView => {
          const holder = r.holderId ? store.getClinic(r.holderId) : undefined;
          return {
            requesterId: r.requesterId,
            requesterName: r.requesterName,
            requesterPublicKey: b64(r.requesterPublicKey),
            status: r.status,
            holderId: r.holderId,
            holderPublicKey: b64(holder?.publicKey ?? null),
          };
        });
      },
    },
    {
      method: 'PUT',
      url: '/api/federations/:fid/key-requests/:clinicId/wrapped',
      summary: 'deliver the federation key wrapped for one requesting clinic (ECDH + HKDF + AES-GCM); key holders only',
      auth: 'clinic',
      params: schemas.keyRequestParams,
      body: 'binary',
      response: 'json',
      handler: async (request, _reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        requireKeyHolder(clinic, 'approve requests');
        const wrapped = binaryBody(request);
        try {
          checkWrappedShape(wrapped);
        } catch (e) {
          throw new HttpError(400, 'invalid-wrapped-key', (e as Error).message);
        }
        const sha = store.putBlob(wrapped);
        if (!store.deliverWrappedKey(federation.id, params(request).clinicId, clinic.id, sha)) {
          throw new HttpError(409, 'no-pending-request', `clinic ${params(request).clinicId} has no pending key request`);
        }
        store.audit(clinic.id, 'key.wrapped-delivered', { federationId: federation.id, requester: params(request).clinicId, sha256: sha });
        return { sha256: sha };
      },
    },
    {
      method: 'GET',
      url: '/api/federations/:fid/key-requests/:clinicId/wrapped',
      summary: 'the wrapped federation key, for the clinic it was wrapped for only',
      auth: 'clinic',
      params: schemas.keyRequestParams,
      response: 'binary',
      handler: async (request, reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        if (clinic.id !== params(request).clinicId) throw new HttpError(404, 'not-found', 'no wrapped key for this clinic');
        const req = store.keyRequests(federation.id).find((r) => r.requesterId === clinic.id);
        if (!req?.wrappedSha) throw new HttpError(409, 'not-approved-yet', 'no key holder has approved this clinic yet');
        reply.type('application/octet-stream');
        return Buffer.from(store.getBlob(req.wrappedSha));
      },
    },
    {
      method: 'POST',
      url: '/api/federations/:fid/key-holder',
      summary: 'confirm that this clinic unwrapped the federation key (it may then approve others)',
      auth: 'clinic',
      params: schemas.federationParams,
      response: 'json',
      handler: async (request, _reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        const req = store.keyRequests(federation.id).find((r) => r.requesterId === clinic.id);
        if (!clinic.holdsKey && req?.status !== 'wrapped') throw new HttpError(409, 'not-approved-yet', 'no wrapped key was delivered to this clinic');
        store.markKeyHolder(clinic.id);
        store.audit(clinic.id, 'key.accepted', { federationId: federation.id });
        return { ok: true };
      },
    },
    // --- encrypted inference -------------------------------------------------------------------------------------------
    {
      method: 'PUT',
      url: '/api/federations/:fid/inference-model',
      summary: 'publish the head served for encrypted inference (in clear or encrypted, with its slot layout); key holders only',
      auth: 'clinic',
      params: schemas.federationParams,
      body: 'binary',
      bodyLimit: EVALUATION_KEY_LIMIT,
      response: 'json',
      handler: async (request, _reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        requireKeyHolder(clinic, 'publish the inference model');
        const bytes = binaryBody(request);
        const model = decodeInferenceModel(bytes);
        const sha = store.putBlob(bytes);
        try {
          await inference.prepareModel(federation.id, sha, bytes);
        } catch (e) {
          if (e instanceof HeError && e.code !== 'worker') throw new HttpError(400, 'invalid-model', e.message);
          throw e;
        }
        store.putInferenceModel(federation.id, sha, clinic.id);
        store.audit(clinic.id, 'inference-model.published', { federationId: federation.id, sha256: sha, encrypted: model.encrypted, classes: model.layout.classes });
        return { sha256: sha };
      },
    },
    {
      method: 'GET',
      url: '/api/federations/:fid/inference-model',
      summary: 'the layout of the published inference model (never its weights)',
      auth: 'clinic',
      params: schemas.federationParams,
      response: 'json',
      handler: async (request, _reply, caller) => {
        const { federation } = memberFederation(caller, params(request).fid);
        const sha = store.inferenceModel(federation.id);
        if (!sha) throw new HttpError(404, 'no-model', 'no inference model is published for this federation yet');
        const model = decodeInferenceModel(store.getBlob(sha));
        return { sha256: sha, layout: model.layout, encrypted: model.encrypted };
      },
    },
    {
      method: 'POST',
      url: '/api/federations/:fid/inference',
      summary: 'encrypted linear inference: a bundle of encrypted token groups in, a bundle of encrypted logits out',
      auth: 'clinic',
      params: schemas.federationParams,
      body: 'binary',
      bodyLimit: BUNDLE_LIMITS.maxTotalBytes,
      response: 'binary',
      handler: async (request, reply, caller) => {
        const { federation } = memberFederation(caller, params(request).fid);
        let results: Uint8Array[];
        try {
          ({ results } = await inference.infer(federation, binaryBody(request)));
        } catch (e) {
          // SEAL's verdicts on the inputs (wrong federation, preset or layout, invalid ciphertexts) are the caller's fault.
          if (e instanceof HeError && e.code !== 'worker') throw new HttpError(400, 'invalid-ciphertext', e.message);
          throw e;
        }
        metrics.inc('cipherpath_inference_groups_total', {}, results.length);
        reply.type('application/octet-stream');
        return Buffer.from(encodeBundle(results));
      },
    },
    // --- rounds --------------------------------------------------------------------------------------------------------
    {
      method: 'GET',
      url: '/api/federations/:fid/rounds/:round',
      summary: 'round state: status, deadline, quorum and who has submitted (nothing else)',
      auth: 'clinic',
      params: schemas.roundParams,
      response: 'json',
      handler: async (request, _reply, caller) => roundView(memberFederation(caller, params(request).fid).federation, Number(params(request).round)),
    },
    {
      method: 'POST',
      url: '/api/federations/:fid/rounds/:round/uploads',
      summary: "upload this clinic's ciphertext bundle for a round (idempotent by content hash)",
      auth: 'clinic',
      params: schemas.roundParams,
      body: 'binary',
      bodyLimit: BUNDLE_LIMITS.maxTotalBytes,
      response: 'json',
      handler: async (request, reply, caller) => {
        const { clinic, federation } = memberFederation(caller, params(request).fid);
        const round = Number(params(request).round);
        const bytes = binaryBody(request);
        const parts = decodeBundle(bytes);
        const sha = sha256Hex(bytes);
        const existing = store.uploadsFor(federation.id, round).find((u) => u.clinicId === clinic.id);
        if (existing?.sha256 === sha) return { round, sha256: sha, duplicate: true };
        const state = store.getRound(federation.id, round);
        if (!state || state.status !== 'collecting') {
          throw new HttpError(409, 'round-not-collecting', `round ${round} is ${state?.status ?? 'not open yet'}; upload to round ${federation.currentRound} instead`);
        }
        for (const [i, part] of parts.entries()) {
          try {
            await pool.validateCiphertext(federation.presetId as PresetId, federation.id, part);
          } catch (e) {
            throw new HttpError(400, 'invalid-ciphertext', `ciphertext ${i}: ${(e as Error).message}`);
          }
        }
        const blobSha = store.putBlob(bytes);
        const outcome = store.addUpload({ federationId: federation.id, round, clinicId: clinic.id, sha256: blobSha, bytes: bytes.byteLength, ciphertextCount: parts.length });
        if (outcome === 'conflict') throw new HttpError(409, 'already-uploaded', `this clinic already uploaded different data for round ${round}`);
        if (outcome === 'added') {
          metrics.inc('cipherpath_uploads_accepted_total');
          store.audit(clinic.id, 'upload.accepted', { federationId: federation.id, round, sha256: blobSha, bytes: bytes.byteLength });
        }
        void rounds.maybeAggregate(federation.id, round);
        reply.status(outcome === 'added' ? 201 : 200);
        return { round, sha256: blobSha, duplicate: outcome === 'duplicate' };
      },
    },
    {
      method: 'GET',
      url: '/api/federations/:fid/rounds/:round/aggregate',
      summary: 'the encrypted aggregate of a closed round (a bundle of ciphertexts)',
      auth: 'clinic',
      params: schemas.roundParams,
      response: 'binary',
      handler: async (request, reply, caller) => {
        const { federation } = memberFederation(caller, params(request).fid);
        const state = store.getRound(federation.id, Number(params(request).round));
        if (!state?.aggregateSha) {
          throw new HttpError(409, 'not-aggregated', `round ${params(request).round} has no aggregate yet (status: ${state?.status ?? 'not open'})`);
        }
        reply.type('application/octet-stream');
        return Buffer.from(store.getBlob(state.aggregateSha));
      },
    },
  ];

  for (const route of routes) {
    const schema: Record<string, unknown> = {};
    if (route.params) schema.params = route.params;
    if (route.body && route.body !== 'binary') schema.body = route.body;
    app.route({
      method: route.method,
      url: route.url,
      schema,
      bodyLimit: route.bodyLimit ?? (route.body === 'binary' ? 1024 * 1024 : JSON_BODY_LIMIT),
      handler: async (request, reply) => route.handler(request, reply, authenticate(request, route.auth)),
    });
  }

  // --- the SPA -------------------------------------------------------------------------------------------------------
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    reply.status(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  if (existsSync(join(config.staticDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: config.staticDir, wildcard: false, index: ['index.html'] });
    app.setNotFoundHandler((request, reply) => {
      if (request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.split('?')[0]?.includes('.')) {
        return reply.type('text/html').sendFile('index.html');
      }
      return notFound(request, reply);
    });
  } else {
    app.log.warn({ staticDir: config.staticDir }, 'no built SPA found; run `npm run build` (npm start does it)');
    app.setNotFoundHandler(notFound);
  }

  return { app, rounds, metrics };
}
