// Operations: liveness, readiness (the database answers and its migrations are applied), Prometheus metrics and the
// OpenAPI document. A load balancer sends traffic only to replicas whose /readyz answers 200.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CoordinatorContext } from '../context.ts';

export const opsRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { metrics, blobs, store }) => {
  app.get('/healthz', { schema: { summary: 'liveness' } }, async () => ({ ok: true }));

  app.get('/readyz', { schema: { summary: 'readiness: the database answers' } }, async (_request, reply) => {
    try {
      // Every store migrates before the app is built, so a store that answers is a migrated one.
      await store.getMeta('admin_token_hash');
      return { ok: true };
    } catch (e) {
      return reply.code(503).send({ error: 'not-ready', message: `the database does not answer: ${(e as Error).message}` });
    }
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics' } }, async (_request, reply) => {
    metrics.gauge('cipherpath_blob_bytes', 'bytes of ciphertexts, keys and models stored', await blobs.usage());
    metrics.gauge('cipherpath_blob_files', 'blob files stored', (await blobs.list()).length);
    reply.type('text/plain; version=0.0.4');
    return metrics.render();
  });

  app.get('/api/openapi.json', { config: { auth: 'none' }, schema: { summary: 'this document' } }, async () => app.swagger());
};
