// The coordinator's HTTP surface as a Fastify app: the JSON + binary API under /api, the built SPA everywhere else,
// one port. Order matters and is the security argument: headers on every reply; then in onRequest, before any body
// is read, the caller is identified, rate-limited on that verified identity and authorised; then the route's body
// limit applies while the body is read; every refusal is one HttpError rendered by one error handler.
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { HeNodePool } from '../he/node-pool.ts';
import { BUNDLE_LIMITS } from '../protocol/bundle.ts';
import type { CoordinatorConfig } from './config.ts';
import type { CoordinatorContext } from './context.ts';
import { installErrorHandler } from './errors.ts';
import { InferenceService } from './inference.ts';
import { Metrics } from './metrics.ts';
import { installAuthorize, installIdentify } from './plugins/auth.ts';
import { installOpenApi } from './plugins/openapi.ts';
import { installRateLimit } from './plugins/rate-limit.ts';
import { installSecurityHeaders } from './plugins/security-headers.ts';
import { adminRoutes } from './routes/admin.ts';
import { enrolmentRoutes } from './routes/enrolment.ts';
import { inferenceRoutes } from './routes/inference.ts';
import { keyRelayRoutes } from './routes/key-relay.ts';
import { opsRoutes } from './routes/ops.ts';
import { roundRoutes } from './routes/rounds.ts';
import { installStatic } from './routes/static.ts';
import { RoundRunner } from './rounds.ts';
import { Maintenance } from './maintenance.ts';
import type { JobLogger, JobQueue } from './jobs/types.ts';
import type { BlobStore, Store } from './stores/types.ts';

export interface CoordinatorDeps {
  config: CoordinatorConfig;
  store: Store;
  blobs: BlobStore;
  pool: HeNodePool;
  adminTokenHash: string;
  /** Opens the job queue that goes with the store (stores/open.ts), given the app's logger. */
  openJobs(log: JobLogger): Promise<JobQueue>;
}

/** JSON bodies are small; binary routes declare their own limit (1 MiB unless they say otherwise). */
const JSON_BODY_LIMIT = 64 * 1024;
const BINARY_BODY_LIMIT = 1024 * 1024;
const VERSION = '0.1.0';

/** The app with its round runner working jobs; stop `jobs` after closing the app, before the pool and the store. */
export async function buildApp(deps: CoordinatorDeps): Promise<{ app: FastifyInstance; rounds: RoundRunner; metrics: Metrics; maintenance: Maintenance; jobs: JobQueue }> {
  const { config, store, blobs, pool } = deps;
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: JSON_BODY_LIMIT,
    keepAliveTimeout: config.keepAliveSeconds * 1000,
    trustProxy: config.trustProxy,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Bodies are checked strictly (no coercion); path parameters are converted (a round arrives as text, is a number).
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const metrics = new Metrics();
  const jobs = await deps.openJobs(app.log);
  const rounds = new RoundRunner({ store, blobs, pool, log: app.log, metrics, jobs });
  const maintenance = new Maintenance(store, blobs, config.retainUploads);
  try {
    await rounds.start(() => maintenance.afterRoundClosed());
  } catch (e) {
    await jobs.stop();
    throw e;
  }
  const context: CoordinatorContext = { config, store, blobs, pool, rounds, jobs, metrics, inference: new InferenceService(store, blobs, pool), maintenance };

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: BUNDLE_LIMITS.maxTotalBytes }, (_req, body, done) => done(null, body));
  app.addHook('onRoute', (route) => {
    if (route.config?.body === 'binary' && route.bodyLimit === undefined) route.bodyLimit = BINARY_BODY_LIMIT;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.inc('cipherpath_http_requests_total', { route: request.routeOptions.url ?? 'unmatched', status: `${Math.floor(reply.statusCode / 100)}xx` });
  });
  installErrorHandler(app);

  await installSecurityHeaders(app);
  installIdentify(app, store, deps.adminTokenHash);
  await installRateLimit(app, { perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst, metrics });
  installAuthorize(app);
  await installOpenApi(app, VERSION);

  for (const routes of [opsRoutes, adminRoutes, enrolmentRoutes, keyRelayRoutes, roundRoutes, inferenceRoutes]) await app.register(routes, context);
  await installStatic(app, config.staticDir);
  return { app, rounds, metrics, maintenance, jobs };
}
