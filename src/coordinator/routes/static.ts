// The built SPA on every path outside /api (client-side routes fall back to index.html); JSON 404s elsewhere.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const notFound = (request: FastifyRequest, reply: FastifyReply) =>
  reply.status(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` });

export async function installStatic(app: FastifyInstance, staticDir: string): Promise<void> {
  if (!existsSync(join(staticDir, 'index.html'))) {
    app.log.warn({ staticDir }, 'no built SPA found; run `npm run build` (npm start does it)');
    app.setNotFoundHandler(notFound);
    return;
  }
  await app.register(fastifyStatic, { root: staticDir, wildcard: false, index: ['index.html'] });
  app.setNotFoundHandler((request, reply) => {
    if (request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.split('?')[0]?.includes('.')) {
      return reply.type('text/html').sendFile('index.html');
    }
    return notFound(request, reply);
  });
}
