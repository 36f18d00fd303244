// Enrolment: a clinic redeems a one-time invite for its bearer token, reads who it is, and sets its public key.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sha256Hex } from '../../common/sha256.ts';
import { PUBLIC_KEY_BYTES } from '../../custody/identity.ts';
import { EnrolRequestSchema } from '../../protocol/api.ts';
import { binaryBody, type CoordinatorContext, memberFederation } from '../context.ts';
import { HttpError } from '../errors.ts';
import { newClinicToken, randomId } from '../federations.ts';
import { clinicOf } from '../plugins/auth.ts';

export const enrolmentRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, config }) => {
  app.post(
    '/api/enrol',
    { config: { auth: 'none' }, schema: { summary: 'redeem a one-time invite; returns the clinic bearer token once', body: EnrolRequestSchema } },
    async (request, reply) => {
      const { token, stored } = newClinicToken(config.tokenDays);
      const clinic = await store.redeemInvite(request.body.inviteCode, { id: randomId('cl'), name: request.body.clinicName, ...stored });
      if (!clinic) throw new HttpError(403, 'invalid-invite', 'this invite code is unknown or has already been used');
      reply.status(201);
      return { clinicId: clinic.id, federationId: clinic.federationId, token, expiresAt: stored.expiresAt };
    },
  );

  app.get('/api/me', { config: { auth: 'clinic' }, schema: { summary: 'this clinic and its federation' } }, async (request) => {
    const { clinic, federation } = await memberFederation(store, request, clinicOf(request).federationId);
    return { clinicId: clinic.id, clinicName: clinic.name, holdsKey: clinic.holdsKey, keyHolders: await store.keyHolderCount(federation.id), federation };
  });

  app.put(
    '/api/me/public-key',
    { config: { auth: 'clinic', body: 'binary' }, bodyLimit: 64 * 1024, schema: { summary: "set this clinic's ECDH P-256 public key (65 raw bytes) used for key relay" } },
    async (request) => {
      const key = binaryBody(request);
      if (key.byteLength !== PUBLIC_KEY_BYTES || key[0] !== 4) throw new HttpError(400, 'invalid-public-key', `a public key is ${PUBLIC_KEY_BYTES} raw bytes starting with 0x04`);
      // WebCrypto refuses coordinates that are not a point on P-256 (an invalid-curve key would leak ECDH secrets).
      await crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'ECDH', namedCurve: 'P-256' }, false, []).catch(() => {
        throw new HttpError(400, 'invalid-public-key', 'the public key is not a point on P-256');
      });
      const clinic = clinicOf(request);
      await store.setClinicPublicKey(clinic.id, key);
      await store.audit(clinic.id, 'clinic.public-key', { sha256: sha256Hex(key) });
      return { ok: true };
    },
  );
};
