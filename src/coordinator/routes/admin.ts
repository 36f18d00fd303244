// Admin: federations, invites, rounds, the audit log and the job queue's dead letters (admin bearer token), and the
// unauthenticated demo endpoint.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClinicParamsSchema, CreateFederationRequestSchema, FederationParamsSchema, InvitesRequestSchema, JobsViewSchema, RoundParamsSchema } from '../../protocol/api.ts';
import { type CoordinatorContext, federationOr404, roundView } from '../context.ts';
import { HttpError } from '../errors.ts';
import { createFederationWithInvites, newClinicToken, newInviteCodes } from '../federations.ts';
import { routeLimit } from '../plugins/rate-limit.ts';

export const DEMO_FEDERATION = { name: 'Three-clinic demo', presetId: 'agg-v1', strategy: 'prototypes', minClinics: 3, roundSeconds: 600 } as const;

export const adminRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, config, rounds, jobs }) => {
  const admin = { auth: 'admin' } as const;

  app.post('/api/admin/federations', { config: admin, schema: { summary: 'create a federation', body: CreateFederationRequestSchema } }, async (request, reply) => {
    reply.status(201);
    return (await createFederationWithInvites(store, request.body, 0)).federation;
  });

  app.get('/api/admin/federations', { config: admin, schema: { summary: 'list federations' } }, async () => store.listFederations());

  app.post(
    '/api/admin/federations/:fid/invites',
    { config: admin, schema: { summary: 'issue one-time invite codes', params: FederationParamsSchema, body: InvitesRequestSchema } },
    async (request, reply) => {
      const federation = await federationOr404(store, request.params.fid);
      const codes = newInviteCodes(request.body.count);
      await store.addInvites(federation.id, codes);
      await store.audit('admin', 'invites.issued', { federationId: federation.id, count: codes.length });
      reply.status(201);
      return { federationId: federation.id, codes };
    },
  );

  app.get('/api/admin/federations/:fid/rounds', { config: admin, schema: { summary: 'rounds of a federation', params: FederationParamsSchema } }, async (request) => {
    const federation = await federationOr404(store, request.params.fid);
    return Promise.all(Array.from({ length: federation.currentRound }, (_, i) => roundView(store, federation, i + 1)));
  });

  app.get('/api/admin/federations/:fid/clinics', { config: admin, schema: { summary: 'enrolled (unrevoked) clinics of a federation', params: FederationParamsSchema } }, async (request) => {
    const federation = await federationOr404(store, request.params.fid);
    return (await store.clinicsOf(federation.id)).map((c) => ({ id: c.id, name: c.name, holdsKey: c.holdsKey }));
  });

  app.post(
    '/api/admin/federations/:fid/rounds/:round/reset',
    { config: admin, schema: { summary: 'reset a round that is not closed: its uploads are dropped and it collects again', params: RoundParamsSchema } },
    async (request) => {
      const federation = await federationOr404(store, request.params.fid);
      await rounds.idle();
      if (!(await store.resetRound(federation.id, request.params.round))) {
        throw new HttpError(409, 'round-not-resettable', `round ${request.params.round} is closed, failed or does not exist; only a collecting or aggregating round can be reset`);
      }
      return roundView(store, federation, request.params.round);
    },
  );

  app.post(
    '/api/admin/clinics/:clinicId/token',
    { config: admin, schema: { summary: "rotate a clinic's bearer token: the old one stops working, the new one is returned once", params: ClinicParamsSchema } },
    async (request) => {
      const { token, stored } = newClinicToken(config.tokenDays);
      if (!(await store.setClinicToken(request.params.clinicId, stored))) throw new HttpError(404, 'not-found', `no live clinic ${request.params.clinicId}`);
      await store.audit('admin', 'clinic.token-rotated', { clinicId: request.params.clinicId });
      return { clinicId: request.params.clinicId, token, expiresAt: stored.expiresAt };
    },
  );

  app.delete(
    '/api/admin/clinics/:clinicId',
    { config: admin, schema: { summary: 'revoke a clinic: its token stops working and it no longer counts as enrolled or as a key holder', params: ClinicParamsSchema } },
    async (request) => {
      if (!(await store.revokeClinic(request.params.clinicId))) throw new HttpError(404, 'not-found', `no live clinic ${request.params.clinicId}`);
      await store.audit('admin', 'clinic.revoked', { clinicId: request.params.clinicId });
      return { ok: true };
    },
  );

  app.get(
    '/api/admin/jobs',
    { config: admin, schema: { summary: "the job queue (pg-boss, or in-process when embedded) and the jobs that failed every attempt, newest first", response: { 200: JobsViewSchema } } },
    async () => ({ queue: jobs.kind, deadLetters: (await jobs.deadLetters()) ?? [] }),
  );

  app.get('/api/admin/audit', { config: admin, schema: { summary: 'the hash-chained audit log, newest first' } }, async () => store.auditLog());

  const demoLimit = routeLimit(app, config.demoPerAddressPerHour, 3_600_000);
  app.post(
    '/api/demo/federations',
    { config: { auth: 'none' }, schema: { summary: 'demo mode only (DEMO=on): a fresh three-clinic demo federation with its invite codes' } },
    async (request, reply) => {
      if (!config.demo) throw new HttpError(404, 'demo-disabled', 'demo mode is off on this coordinator (DEMO=off)');
      await demoLimit(request);
      const at = new Date();
      if ((await store.liveDemoFederations(at.toISOString())) >= config.demoMaxLive) {
        throw new HttpError(429, 'demo-capacity', `${config.demoMaxLive} demo federations are live; they expire after ${config.demoHours} hour(s), retry later`);
      }
      const expiresAt = new Date(at.getTime() + config.demoHours * 3_600_000).toISOString();
      const { federation, codes } = await createFederationWithInvites(store, DEMO_FEDERATION, 3, expiresAt);
      reply.status(201);
      return { federationId: federation.id, codes };
    },
  );
};
