// Rate limits by @fastify/rate-limit, keyed on VERIFIED identity: a clinic whose token the store recognised, the
// admin, else the caller's address (request.ip, which honours TRUST_PROXY so callers behind the TLS proxy do not
// share one bucket). A made-up bearer token is no identity, so random tokens share their address's bucket. The
// limiter runs in onRequest after `identify` and before `authorize`, so refused guesses count too.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';

export function callerKey(request: FastifyRequest): string {
  const caller = request.caller;
  if (caller.kind === 'clinic') return `clinic:${caller.clinic.id}`;
  if (caller.kind === 'admin') return 'admin';
  return `ip:${request.ip}`;
}

const tooMany = (after: string): HttpError => new HttpError(429, 'rate-limited', `too many requests; retry in ${after}`);

export async function installRateLimit(app: FastifyInstance, opts: { perSecond: number; burst: number; metrics: Metrics }): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => tooMany(context.after),
    onExceeded: () => opts.metrics.inc('cipherpath_rate_limited_total'),
  });
  // A fixed window of `burst` requests over burst / perSecond seconds: the steady rate with the burst allowed.
  const limiter = app.rateLimit({
    max: opts.burst,
    timeWindow: Math.ceil((opts.burst / opts.perSecond) * 1000),
    keyGenerator: callerKey,
    allowList: (request) => !request.url.startsWith('/api/'),
  });
  app.addHook('onRequest', limiter);
}

/** A second, stricter limit for one route (the unauthenticated demo endpoint), per address. */
export function routeLimit(app: FastifyInstance, max: number, timeWindowMs: number): (request: FastifyRequest) => Promise<void> {
  const check = app.createRateLimit({ max, timeWindow: timeWindowMs, keyGenerator: (request) => `route:${request.routeOptions.url}:${request.ip}` });
  return async (request) => {
    const result = await check(request);
    if (!result.isAllowed && result.isExceeded) throw tooMany(`${result.ttlInSeconds} seconds`);
  };
}
