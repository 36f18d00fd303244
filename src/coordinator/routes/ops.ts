// Operations: liveness, Prometheus metrics and the OpenAPI document.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CoordinatorContext } from '../context.ts';

export const opsRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { metrics, blobs }) => {
  app.get('/healthz', { schema: { summary: 'liveness' } }, async () => ({ ok: true }));

  app.get('/metrics', { schema: { summary: 'Prometheus metrics' } }, async (_request, reply) => {
    metrics.gauge('cipherpath_blob_bytes', 'bytes of ciphertexts, keys and models stored', await blobs.usage());
    metrics.gauge('cipherpath_blob_files', 'blob files stored', (await blobs.list()).length);
    reply.type('text/plain; version=0.0.4');
    return metrics.render();
  });

  app.get('/api/openapi.json', { config: { auth: 'none' }, schema: { summary: 'this document' } }, async () => app.swagger());
};
