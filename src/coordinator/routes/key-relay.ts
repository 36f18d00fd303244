// Key relay, moved as it was from the route table: the founder becomes the first key holder, other clinics request
// the federation key, a holder delivers it wrapped for the requester (ECDH + HKDF + AES-GCM), the requester fetches
// it and confirms. The coordinator only ever sees wrapped bytes and public keys.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkWrappedShape } from '../../custody/keywrap.ts';
import { toBase64 } from '../../common/base64.ts';
import { FederationParamsSchema, KeyRequestParamsSchema, type KeyRequestView } from '../../protocol/api.ts';
import { binaryBody, type CoordinatorContext, memberFederation, requireKeyHolder } from '../context.ts';
import { HttpError } from '../errors.ts';

const b64 = (bytes: Uint8Array | null): string | null => (bytes ? toBase64(bytes) : null);

export const keyRelayRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, blobs }) => {
  const clinic = { auth: 'clinic' } as const;

  app.post(
    '/api/federations/:fid/founder',
    { config: clinic, schema: { summary: 'become the first key holder of a federation that has none (the founder created the keys locally)', params: FederationParamsSchema } },
    async (request) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      if (!clinic.publicKey) throw new HttpError(409, 'no-public-key', 'set this clinic’s public key first (PUT /api/me/public-key)');
      if (!(await store.claimFounder(federation.id, clinic.id))) throw new HttpError(409, 'already-founded', 'this federation already has a key holder; request the key from them instead');
      await store.audit(clinic.id, 'federation.founded', { federationId: federation.id });
      return { ok: true };
    },
  );

  app.post(
    '/api/federations/:fid/key-requests',
    { config: clinic, schema: { summary: 'ask the key holders for the federation key (needs this clinic’s public key)', params: FederationParamsSchema } },
    async (request, reply) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      if (clinic.holdsKey) throw new HttpError(409, 'already-holds-key', 'this clinic already holds the federation key');
      if (!clinic.publicKey) throw new HttpError(409, 'no-public-key', 'set this clinic’s public key first (PUT /api/me/public-key)');
      await store.requestKey(federation.id, clinic.id);
      await store.audit(clinic.id, 'key.requested', { federationId: federation.id });
      reply.status(201);
      return { ok: true };
    },
  );

  app.get(
    '/api/federations/:fid/key-requests',
    { config: clinic, schema: { summary: 'key requests: all of them for key holders, only its own for any other clinic', params: FederationParamsSchema } },
    async (request) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      const visible = (await store.keyRequests(federation.id)).filter((r) => clinic.holdsKey || r.requesterId === clinic.id);
      return Promise.all(visible.map(async (r): Promise<KeyRequestView> => {
        const holder = r.holderId ? await store.getClinic(r.holderId) : undefined;
        return {
          requesterId: r.requesterId,
          requesterName: r.requesterName,
          requesterPublicKey: b64(r.requesterPublicKey),
          status: r.status,
          holderId: r.holderId,
          holderPublicKey: b64(holder?.publicKey ?? null),
        };
      }));
    },
  );

  app.put(
    '/api/federations/:fid/key-requests/:clinicId/wrapped',
    {
      config: { auth: 'clinic', body: 'binary' },
      bodyLimit: 1024 * 1024,
      schema: { summary: 'deliver the federation key wrapped for one requesting clinic (ECDH + HKDF + AES-GCM); key holders only', params: KeyRequestParamsSchema },
    },
    async (request) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      requireKeyHolder(clinic, 'approve requests');
      const wrapped = binaryBody(request);
      try {
        checkWrappedShape(wrapped);
      } catch (e) {
        throw new HttpError(400, 'invalid-wrapped-key', (e as Error).message);
      }
      const sha = await blobs.put(wrapped);
      if (!(await store.deliverWrappedKey(federation.id, request.params.clinicId, clinic.id, sha))) {
        throw new HttpError(409, 'no-pending-request', `clinic ${request.params.clinicId} has no pending key request`);
      }
      await store.audit(clinic.id, 'key.wrapped-delivered', { federationId: federation.id, requester: request.params.clinicId, sha256: sha });
      return { sha256: sha };
    },
  );

  app.get(
    '/api/federations/:fid/key-requests/:clinicId/wrapped',
    { config: clinic, schema: { summary: 'the wrapped federation key, for the clinic it was wrapped for only', params: KeyRequestParamsSchema } },
    async (request, reply) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      if (clinic.id !== request.params.clinicId) throw new HttpError(404, 'not-found', 'no wrapped key for this clinic');
      const req = (await store.keyRequests(federation.id)).find((r) => r.requesterId === clinic.id);
      if (!req?.wrappedSha) throw new HttpError(409, 'not-approved-yet', 'no key holder has approved this clinic yet');
      reply.type('application/octet-stream');
      return Buffer.from(await blobs.get(req.wrappedSha));
    },
  );

  app.post(
    '/api/federations/:fid/key-holder',
    { config: clinic, schema: { summary: 'confirm that this clinic unwrapped the federation key (it may then approve others)', params: FederationParamsSchema } },
    async (request) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      const req = (await store.keyRequests(federation.id)).find((r) => r.requesterId === clinic.id);
      if (!clinic.holdsKey && req?.status !== 'wrapped') throw new HttpError(409, 'not-approved-yet', 'no wrapped key was delivered to this clinic');
      await store.markKeyHolder(clinic.id);
      await store.audit(clinic.id, 'key.accepted', { federationId: federation.id });
      return { ok: true };
    },
  );
};
