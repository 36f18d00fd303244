// The coordinator's HTTP surface: JSON + binary API under /api, the built SPA everywhere else, one port.
// Every request is validated against a schema or a binary parser with size caps; every expected failure is a 4xx
// with {error, message}. Nothing here sees a key or a token in clear: uploads are ciphertext envelopes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  type CreateFederationRequest,
  type EnrolRequest,
  type EnrolResponse,
  type FederationView,
  type InvitesResponse,
  type MeResponse,
  type RoundView,
  schemas,
  type UploadResponse,
} from '../protocol/api.ts';
import { BUNDLE_LIMITS, BundleError, decodeBundle } from '../protocol/bundle.ts';
import type { HeNodePool } from '../he/node-pool.ts';
import type { PresetId } from '../he/params.ts';
import type { CoordinatorConfig } from './config.ts';
import { RoundRunner } from './rounds.ts';
import { SECURITY_HEADERS } from './headers.ts';
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

function federationView(f: FederationRow): FederationView {
  return { id: f.id, name: f.name, presetId: f.presetId, minClinics: f.minClinics, currentRound: f.currentRound };
}

export function createFederationWithInvites(store: Store, req: CreateFederationRequest, inviteCount: number): { federation: FederationRow; codes: string[] } {
  const federation = store.createFederation({ id: `fed-${newSecret(6).toLowerCase().replace(/[^a-z0-9]/g, '0')}`, ...req });
  const codes = Array.from({ length: inviteCount }, () => newInviteCode());
  for (const code of codes) store.addInvite(federation.id, code);
  store.audit('admin', 'federation.created', { federationId: federation.id, name: req.name, invites: inviteCount });
  return { federation, codes };
}

export async function buildServer(deps: CoordinatorDeps): Promise<{ app: FastifyInstance; rounds: RoundRunner }> {
  const { config, store, pool } = deps;
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  const rounds = new RoundRunner(store, pool, app.log);

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: BUNDLE_LIMITS.maxTotalBytes }, (_req, body, done) => {
    done(null, body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof HttpError) return reply.status(error.status).send({ error: error.code, message: error.message });
    if (error instanceof BundleError) return reply.status(400).send({ error: `bundle-${error.code}`, message: error.message });
    const e = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
    if (e.validation) return reply.status(400).send({ error: 'invalid-request', message: e.message ?? 'invalid request' });
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: (e.code ?? 'bad-request').toLowerCase(), message: e.message ?? 'bad request' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error; the request was not applied' });
  });

  const requireClinic = (request: FastifyRequest): ClinicRow => {
    const token = bearerToken(request.headers.authorization);
    const clinic = token ? store.clinicByTokenHash(sha256Hex(token)) : undefined;
    if (!clinic) throw new HttpError(401, 'unauthorized', 'a valid clinic bearer token is required');
    return clinic;
  };

  const requireAdmin = (request: FastifyRequest): void => {
    const token = bearerToken(request.headers.authorization);
    if (!token || !tokenMatchesHash(token, deps.adminTokenHash)) throw new HttpError(401, 'unauthorized', 'the admin bearer token is required');
  };

  const clinicFederation = (clinic: ClinicRow, fid: string): FederationRow => {
    const federation = store.getFederation(fid);
    // A clinic learns nothing about federations it does not belong to, not even whether they exist.
    if (!federation || clinic.federationId !== fid) throw new HttpError(404, 'not-found', `federation ${fid} not found`);
    return federation;
  };

  app.get('/healthz', async () => ({ ok: true }));

  // --- admin ---------------------------------------------------------------------------------------------------------
  app.post<{ Body: CreateFederationRequest }>('/api/admin/federations', { schema: { body: schemas.createFederationRequest } }, async (request) => {
    requireAdmin(request);
    const { federation } = createFederationWithInvites(store, request.body, 0);
    return federationView(federation);
  });

  app.get('/api/admin/federations', async (request) => {
    requireAdmin(request);
    return store.listFederations().map(federationView);
  });

  app.post<{ Params: { fid: string }; Body: { count: number } }>(
    '/api/admin/federations/:fid/invites',
    { schema: { params: schemas.federationParams, body: schemas.invitesRequest } },
    async (request): Promise<InvitesResponse> => {
      requireAdmin(request);
      const federation = store.getFederation(request.params.fid);
      if (!federation) throw new HttpError(404, 'not-found', `federation ${request.params.fid} not found`);
      const codes = Array.from({ length: request.body.count }, () => newInviteCode());
      for (const code of codes) store.addInvite(federation.id, code);
      store.audit('admin', 'invites.issued', { federationId: federation.id, count: codes.length });
      return { federationId: federation.id, codes };
    },
  );

  app.get('/api/admin/audit', async (request) => {
    requireAdmin(request);
    return store.auditLog();
  });

  // --- clinics -------------------------------------------------------------------------------------------------------
  app.post<{ Body: EnrolRequest }>('/api/enrol', { schema: { body: schemas.enrolRequest } }, async (request, reply): Promise<EnrolResponse> => {
    const token = newSecret(32);
    const clinicId = `cl-${newSecret(6).toLowerCase().replace(/[^a-z0-9]/g, '0')}`;
    const clinic = store.redeemInvite(request.body.inviteCode, { id: clinicId, name: request.body.clinicName, tokenHash: sha256Hex(token) });
    if (!clinic) throw new HttpError(403, 'invalid-invite', 'this invite code is unknown or has already been used');
    store.audit(clinic.id, 'clinic.enrolled', { federationId: clinic.federationId, name: clinic.name });
    reply.status(201);
    return { clinicId: clinic.id, federationId: clinic.federationId, token };
  });

  app.get('/api/me', async (request): Promise<MeResponse> => {
    const clinic = requireClinic(request);
    const federation = clinicFederation(clinic, clinic.federationId);
    return { clinicId: clinic.id, clinicName: clinic.name, federation: federationView(federation) };
  });

  const roundView = (federation: FederationRow, round: number): RoundView => {
    const state = store.getRound(federation.id, round);
    if (!state) throw new HttpError(404, 'not-found', `round ${round} of ${federation.id} does not exist yet (current round: ${federation.currentRound})`);
    return {
      federationId: federation.id,
      round,
      status: state.status,
      quorum: federation.minClinics,
      submitted: store.uploadsFor(federation.id, round).map((u) => u.clinicName),
      ciphertextCount: state.ciphertextCount,
    };
  };

  app.get<{ Params: { fid: string; round: number } }>('/api/federations/:fid/rounds/:round', { schema: { params: schemas.roundParams } }, async (request) => {
    const federation = clinicFederation(requireClinic(request), request.params.fid);
    return roundView(federation, request.params.round);
  });

  app.post<{ Params: { fid: string; round: number }; Body: Buffer }>(
    '/api/federations/:fid/rounds/:round/uploads',
    { schema: { params: schemas.roundParams }, bodyLimit: BUNDLE_LIMITS.maxTotalBytes },
    async (request, reply): Promise<UploadResponse> => {
      const clinic = requireClinic(request);
      const federation = clinicFederation(clinic, request.params.fid);
      const { round } = request.params;
      if (!Buffer.isBuffer(request.body)) throw new HttpError(415, 'unsupported-media-type', 'uploads are application/octet-stream bundles');
      const bytes = new Uint8Array(request.body.buffer, request.body.byteOffset, request.body.byteLength);
      const parts = decodeBundle(bytes);
      const sha = sha256Hex(bytes);
      const state = store.getRound(federation.id, round);
      const existing = store.uploadsFor(federation.id, round).find((u) => u.clinicId === clinic.id);
      if (existing?.sha256 === sha) return { round, sha256: sha, duplicate: true };
      if (!state || state.status !== 'collecting') {
        throw new HttpError(
          409,
          'round-not-collecting',
          `round ${round} is ${state?.status ?? 'not open yet'}; upload to round ${federation.currentRound} instead`,
        );
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
      if (outcome === 'conflict') throw new HttpError(409, 'already-uploaded', `clinic ${clinic.name} already uploaded different data for round ${round}`);
      if (outcome === 'added') store.audit(clinic.id, 'upload.accepted', { federationId: federation.id, round, sha256: blobSha, bytes: bytes.byteLength });
      void rounds.maybeAggregate(federation.id, round);
      reply.status(outcome === 'added' ? 201 : 200);
      return { round, sha256: blobSha, duplicate: outcome === 'duplicate' };
    },
  );

  app.get<{ Params: { fid: string; round: number } }>(
    '/api/federations/:fid/rounds/:round/aggregate',
    { schema: { params: schemas.roundParams } },
    async (request, reply) => {
      const federation = clinicFederation(requireClinic(request), request.params.fid);
      const state = store.getRound(federation.id, request.params.round);
      if (!state?.aggregateSha) {
        throw new HttpError(409, 'not-aggregated', `round ${request.params.round} has no aggregate yet (status: ${state?.status ?? 'not open'})`);
      }
      reply.header('content-type', 'application/octet-stream');
      return Buffer.from(store.getBlob(state.aggregateSha));
    },
  );

  // --- the SPA -------------------------------------------------------------------------------------------------------
  if (existsSync(join(config.staticDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: config.staticDir, wildcard: false, index: ['index.html'] });
    app.setNotFoundHandler((request, reply: FastifyReply) => {
      if (request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.includes('.')) {
        return reply.type('text/html').sendFile('index.html');
      }
      return reply.status(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
    });
  } else {
    app.log.warn({ staticDir: config.staticDir }, 'no built SPA found; run `npm run build` (npm start does it)');
    app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` }));
  }

  return { app, rounds };
}
