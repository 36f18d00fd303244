// Rounds: a clinic reads a round's state, uploads its ciphertext bundle (idempotent by content hash) and downloads
// the encrypted aggregate once the round is closed. An upload is checked against the round's declared shape (count
// and scale, fixed when the round opened; parameters and level by SEAL) before anything is stored, never against
// another clinic's upload: the first uploader must not decide what the others may send. The status check, the
// shape check and the row are one transaction, so 201 means the upload is in the round.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sha256Hex } from '../../common/sha256.ts';
import { RoundParamsSchema } from '../../protocol/api.ts';
import { BUNDLE_LIMITS, decodeBundle } from '../../protocol/bundle.ts';
import { binaryBody, type CoordinatorContext, memberFederation, roundView } from '../context.ts';
import { heInputError, HttpError } from '../errors.ts';

/** A late upload is told the round it belongs in: the next one, which opens as soon as this one closes. */
function notCollecting(round: number, status: string, currentRound: number): HttpError {
  const next = round >= currentRound ? (status === 'aggregating' ? round + 1 : currentRound) : currentRound;
  const when = next > currentRound ? ` (it opens when round ${round} closes)` : '';
  return new HttpError(409, 'round-not-collecting', `round ${round} is ${status}; upload to round ${next} instead${when}`);
}

export const roundRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, blobs, pool, rounds, metrics, maintenance }) => {
  app.get(
    '/api/federations/:fid/rounds/:round',
    { config: { auth: 'clinic' }, schema: { summary: 'round state: status, deadline, quorum, declared shape and who has submitted (nothing else)', params: RoundParamsSchema } },
    async (request) => roundView(store, (await memberFederation(store, request, request.params.fid)).federation, request.params.round),
  );

  app.post(
    '/api/federations/:fid/rounds/:round/uploads',
    {
      config: { auth: 'clinic', body: 'binary' },
      bodyLimit: BUNDLE_LIMITS.maxTotalBytes,
      schema: { summary: "upload this clinic's ciphertext bundle for a round (idempotent by content hash)", params: RoundParamsSchema },
    },
    async (request, reply) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      const { round } = request.params;
      const bytes = binaryBody(request);
      const parts = decodeBundle(bytes);
      const sha = sha256Hex(bytes);
      const uploads = await store.uploadsFor(federation.id, round);
      const state = await store.getRound(federation.id, round);
      if (uploads.find((u) => u.clinicId === clinic.id)?.sha256 === sha) {
        // A retry rewrites a copy that went missing or short, while the round still needs it (retention has deleted
        // the uploads of a closed round: rewriting one then would only leave an orphan).
        if (state?.status === 'collecting' || state?.status === 'aggregating') await blobs.put(bytes);
        return { round, sha256: sha, duplicate: true };
      }
      if (!state || state.status !== 'collecting') throw notCollecting(round, state?.status ?? 'not open yet', federation.currentRound);
      const expected = state.spec.ciphertextCount;
      if (expected !== null && parts.length !== expected) {
        throw new HttpError(422, 'round-shape-mismatch', `round ${round} takes ${expected} ciphertext(s) per upload; this upload has ${parts.length}`);
      }
      for (const [i, part] of parts.entries()) {
        let scaleBits: number;
        try {
          ({ scaleBits } = await pool.validateCiphertext(federation.presetId, federation.id, part));
        } catch (e) {
          throw heInputError(e, 'invalid-ciphertext', `ciphertext ${i}`);
        }
        const declared = state.spec.scaleBits;
        if (declared !== null && Math.abs(scaleBits - declared) > 1e-9) {
          throw new HttpError(422, 'round-shape-mismatch', `round ${round} takes ciphertexts at CKKS scale 2^${declared}; ciphertext ${i} of this upload is at 2^${Number(scaleBits.toFixed(3))}`);
        }
      }
      const blobSha = await blobs.put(bytes);
      const outcome = await store.recordUpload({ federationId: federation.id, round, clinicId: clinic.id, sha256: blobSha, bytes: bytes.byteLength, ciphertextCount: parts.length });
      if (outcome.kind === 'conflict' || outcome.kind === 'not-collecting' || outcome.kind === 'shape-mismatch') await maintenance.discardRefused(blobSha);
      switch (outcome.kind) {
        case 'conflict':
          throw new HttpError(409, 'already-uploaded', `this clinic already uploaded different data for round ${round}`);
        case 'not-collecting':
          throw notCollecting(round, outcome.status, outcome.currentRound);
        case 'shape-mismatch':
          throw new HttpError(422, 'round-shape-mismatch', outcome.message);
        case 'created':
          metrics.inc('cipherpath_uploads_accepted_total');
          break;
        case 'duplicate':
          break;
      }
      void rounds.maybeAggregate(federation.id, round);
      reply.status(outcome.kind === 'created' ? 201 : 200);
      return { round, sha256: blobSha, duplicate: outcome.kind === 'duplicate' };
    },
  );

  app.get(
    '/api/federations/:fid/rounds/:round/aggregate',
    { config: { auth: 'clinic' }, schema: { summary: 'the encrypted aggregate of a closed round (a bundle of ciphertexts)', params: RoundParamsSchema } },
    async (request, reply) => {
      const { federation } = await memberFederation(store, request, request.params.fid);
      const state = await store.getRound(federation.id, request.params.round);
      if (!state?.aggregateSha) throw new HttpError(409, 'not-aggregated', `round ${request.params.round} has no aggregate yet (status: ${state?.status ?? 'not open'})`);
      reply.type('application/octet-stream');
      return Buffer.from(await blobs.get(state.aggregateSha));
    },
  );
};
