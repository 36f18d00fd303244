// Admin: federations, invites, rounds and the audit log (admin bearer token), and the unauthenticated demo endpoint.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateFederationRequestSchema, FederationParamsSchema, InvitesRequestSchema } from '../../protocol/api.ts';
import { type CoordinatorContext, federationOr404, roundView } from '../context.ts';
import { HttpError } from '../errors.ts';
import { createFederationWithInvites, issueInvites } from '../federations.ts';
import { routeLimit } from '../plugins/rate-limit.ts';

export const adminRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, config }) => {
  const admin = { auth: 'admin' } as const;

  app.post('/api/admin/federations', { config: admin, schema: { summary: 'create a federation', body: CreateFederationRequestSchema } }, async (request, reply) => {
    reply.status(201);
    return createFederationWithInvites(store, request.body, 0).federation;
  });

  app.get('/api/admin/federations', { config: admin, schema: { summary: 'list federations' } }, async () => store.listFederations());

  app.post(
    '/api/admin/federations/:fid/invites',
    { config: admin, schema: { summary: 'issue one-time invite codes', params: FederationParamsSchema, body: InvitesRequestSchema } },
    async (request, reply) => {
      const federation = federationOr404(store, request.params.fid);
      const codes = issueInvites(store, federation.id, request.body.count);
      store.audit('admin', 'invites.issued', { federationId: federation.id, count: codes.length });
      reply.status(201);
      return { federationId: federation.id, codes };
    },
  );

  app.get('/api/admin/federations/:fid/rounds', { config: admin, schema: { summary: 'rounds of a federation', params: FederationParamsSchema } }, async (request) => {
    const federation = federationOr404(store, request.params.fid);
    return Array.from({ length: federation.currentRound }, (_, i) => roundView(store, federation, i + 1));
  });

  app.get('/api/admin/audit', { config: admin, schema: { summary: 'the hash-chained audit log, newest first' } }, async () => store.auditLog());

  const demoLimit = routeLimit(app, config.demoPerAddressPerHour, 3_600_000);
  app.post(
    '/api/demo/federations',
    { config: { auth: 'none' }, schema: { summary: 'demo mode only (DEMO=on): a fresh three-clinic demo federation with its invite codes' } },
    async (request, reply) => {
      if (!config.demo) throw new HttpError(404, 'demo-disabled', 'demo mode is off on this coordinator (DEMO=off)');
      await demoLimit(request);
      const { federation, codes } = createFederationWithInvites(store, { name: 'Three-clinic demo', presetId: 'agg-v1', strategy: 'prototypes', minClinics: 3, roundSeconds: 600 }, 3);
      reply.status(201);
      return { federationId: federation.id, codes };
    },
  );
};
