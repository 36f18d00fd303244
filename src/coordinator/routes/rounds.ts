// Rounds: a clinic reads a round's state, uploads its ciphertext bundle (idempotent by content hash) and downloads
// the encrypted aggregate once the round is closed.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sha256Hex } from '../../common/sha256.ts';
import type { PresetId } from '../../he/params.ts';
import { RoundParamsSchema } from '../../protocol/api.ts';
import { BUNDLE_LIMITS, decodeBundle } from '../../protocol/bundle.ts';
import { binaryBody, type CoordinatorContext, memberFederation, roundView } from '../context.ts';
import { HttpError } from '../errors.ts';

export const roundRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, pool, rounds, metrics }) => {
  app.get(
    '/api/federations/:fid/rounds/:round',
    { config: { auth: 'clinic' }, schema: { summary: 'round state: status, deadline, quorum and who has submitted (nothing else)', params: RoundParamsSchema } },
    async (request) => roundView(store, memberFederation(store, request, request.params.fid).federation, request.params.round),
  );

  app.post(
    '/api/federations/:fid/rounds/:round/uploads',
    {
      config: { auth: 'clinic', body: 'binary' },
      bodyLimit: BUNDLE_LIMITS.maxTotalBytes,
      schema: { summary: "upload this clinic's ciphertext bundle for a round (idempotent by content hash)", params: RoundParamsSchema },
    },
    async (request, reply) => {
      const { clinic, federation } = memberFederation(store, request, request.params.fid);
      const { round } = request.params;
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
  );

  app.get(
    '/api/federations/:fid/rounds/:round/aggregate',
    { config: { auth: 'clinic' }, schema: { summary: 'the encrypted aggregate of a closed round (a bundle of ciphertexts)', params: RoundParamsSchema } },
    async (request, reply) => {
      const { federation } = memberFederation(store, request, request.params.fid);
      const state = store.getRound(federation.id, request.params.round);
      if (!state?.aggregateSha) throw new HttpError(409, 'not-aggregated', `round ${request.params.round} has no aggregate yet (status: ${state?.status ?? 'not open'})`);
      reply.type('application/octet-stream');
      return Buffer.from(store.getBlob(state.aggregateSha));
    },
  );
};
