// Encrypted inference: key holders publish evaluation keys and the head to serve; clinics send encrypted tokens
// and get encrypted logits back. SEAL's verdicts on what a caller sent are 400s naming the part; a failure of the
// HE worker itself is the coordinator's (500): errors.ts heInputError decides which is which.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { PRESETS, presetHash } from '../../he/params.ts';
import { EvaluationKeyParamsSchema, FederationParamsSchema } from '../../protocol/api.ts';
import { BUNDLE_LIMITS, encodeBundle } from '../../protocol/bundle.ts';
import { decodeEnvelope } from '../../protocol/envelope.ts';
import { decodeInferenceModel, PublishedModelSchema } from '../../protocol/inference-model.ts';
import { binaryBody, type CoordinatorContext, memberFederation, requireKeyHolder } from '../context.ts';
import { heInputError, HttpError } from '../errors.ts';

export const EVALUATION_KEY_LIMIT = 64 * 1024 * 1024;

/** Rethrows an HE failure on the caller's input as heInputError says (400 with `code`, or the pool's own 500). */
const refuseInput = (code: string) => (e: unknown): never => {
  throw heInputError(e, code);
};

export const inferenceRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, blobs, inference, metrics }) => {
  const binary = { auth: 'clinic', body: 'binary' } as const;
  /** What a key holder publishes (evaluation keys, the served head) is one binary body of up to EVALUATION_KEY_LIMIT. */
  const publication = { config: binary, bodyLimit: EVALUATION_KEY_LIMIT } as const;
  /** The publishing clinic, its federation and the body: another federation's clinic gets a 404, a non-holder a 403. */
  const published = async (request: FastifyRequest, fid: string, action: string) => {
    const { clinic, federation } = await memberFederation(store, request, fid);
    requireKeyHolder(clinic, action);
    return { clinic, federation, bytes: binaryBody(request) };
  };

  app.put(
    '/api/federations/:fid/evaluation-keys/:kind',
    { ...publication, schema: { summary: 'upload an evaluation key envelope (galois-keys or relin-keys); key holders only', params: EvaluationKeyParamsSchema } },
    async (request) => {
      const { clinic, federation, bytes } = await published(request, request.params.fid, 'publish evaluation keys');
      const { kind } = request.params;
      try {
        // Header checks here; SEAL's own validity check runs when the inference worker loads the key.
        decodeEnvelope(bytes, { kind, federationId: federation.id, presetHash: await presetHash(PRESETS['inf-v1']), maxBytes: EVALUATION_KEY_LIMIT });
      } catch (e) {
        throw new HttpError(400, 'invalid-evaluation-key', (e as Error).message);
      }
      const sha = await blobs.put(bytes);
      if (kind === 'galois-keys') await inference.checkGaloisKeys(federation.id, sha, bytes).catch(refuseInput('invalid-evaluation-key'));
      await store.putEvaluationKey(federation.id, kind, sha, clinic.id);
      await store.audit(clinic.id, 'evaluation-key.published', { federationId: federation.id, kind, sha256: sha });
      return { sha256: sha };
    },
  );

  app.put(
    '/api/federations/:fid/inference-model',
    { ...publication, schema: { summary: 'publish the head served for encrypted inference (in clear or encrypted, with its slot layout); key holders only', params: FederationParamsSchema } },
    async (request) => {
      const { clinic, federation, bytes } = await published(request, request.params.fid, 'publish the inference model');
      const model = decodeInferenceModel(bytes);
      const sha = await blobs.put(bytes);
      await inference.prepareModel(federation.id, sha, bytes).catch(refuseInput('invalid-model'));
      await store.putInferenceModel(federation.id, sha, clinic.id);
      await store.audit(clinic.id, 'inference-model.published', { federationId: federation.id, sha256: sha, encrypted: model.encrypted, classes: model.layout.classes });
      return { sha256: sha };
    },
  );

  app.get(
    '/api/federations/:fid/inference-model',
    { config: { auth: 'clinic' }, schema: { summary: 'the layout of the published inference model (never its weights)', params: FederationParamsSchema, response: { 200: PublishedModelSchema } } },
    async (request) => {
      const { federation } = await memberFederation(store, request, request.params.fid);
      const sha = await store.inferenceModel(federation.id);
      if (!sha) throw new HttpError(404, 'no-model', 'no inference model is published for this federation yet');
      const model = decodeInferenceModel(await blobs.get(sha));
      return { sha256: sha, layout: model.layout, encrypted: model.encrypted };
    },
  );

  app.post(
    '/api/federations/:fid/inference',
    {
      config: binary,
      bodyLimit: BUNDLE_LIMITS.maxTotalBytes,
      schema: { summary: 'encrypted linear inference: a bundle of encrypted token groups in, a bundle of encrypted logits out', params: FederationParamsSchema },
    },
    async (request, reply) => {
      const { federation } = await memberFederation(store, request, request.params.fid);
      // SEAL's verdicts on the inputs (wrong federation, preset or layout, invalid ciphertexts) are the caller's fault.
      const { results } = await inference.infer(federation, binaryBody(request)).catch(refuseInput('invalid-ciphertext'));
      metrics.inc('cipherpath_inference_groups_total', {}, results.length);
      reply.type('application/octet-stream');
      return Buffer.from(encodeBundle(results));
    },
  );
};
