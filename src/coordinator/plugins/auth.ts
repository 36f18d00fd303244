// Authentication runs in onRequest, before the body is read: an unauthenticated 60 MB upload is refused with 401
// without being buffered. `identify` resolves who calls (admin, a verified clinic, or nobody) so the rate limiter
// can key on verified identity; `authorize` then enforces the route's declared `config.auth`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sha256Hex } from '../../common/sha256.ts';
import { HttpError } from '../errors.ts';
import { bearerToken, tokenMatchesHash } from '../security.ts';
import type { ClinicRow, Store } from '../stores/types.ts';

export type Auth = 'none' | 'clinic' | 'admin';

export type Caller = { kind: 'anonymous' } | { kind: 'admin' } | { kind: 'clinic'; clinic: ClinicRow };

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** Who may call the route; every /api route declares it (checked when the route is added). */
    auth?: Auth;
  }
}

const ANONYMOUS: Caller = { kind: 'anonymous' };

/** Resolves the caller from the bearer token; never rejects (authorize does). */
export function installIdentify(app: FastifyInstance, store: Store, adminTokenHash: string): void {
  app.decorateRequest<Caller | null>('caller', null);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && !route.config?.auth) throw new Error(`route ${route.method} ${route.url} declares no config.auth`);
  });
  app.addHook('onRequest', async (request) => {
    request.caller = ANONYMOUS;
    const token = bearerToken(request.headers.authorization);
    if (!token) return;
    if (tokenMatchesHash(token, adminTokenHash)) {
      request.caller = { kind: 'admin' };
      return;
    }
    const clinic = await store.clinicByTokenHash(sha256Hex(token), new Date().toISOString());
    if (clinic) request.caller = { kind: 'clinic', clinic };
  });
}

/** Refuses callers the route does not admit; registered after the rate limiter so refused guesses still count. */
export function installAuthorize(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config?.auth ?? 'none';
    if (auth === 'admin' && request.caller.kind !== 'admin') throw new HttpError(401, 'unauthorized', 'the admin bearer token is required');
    if (auth === 'clinic' && request.caller.kind !== 'clinic') throw new HttpError(401, 'unauthorized', 'a valid clinic bearer token is required');
  });
}

/** The authenticated clinic of a clinic route. */
export function clinicOf(request: FastifyRequest): ClinicRow {
  if (request.caller.kind !== 'clinic') throw new HttpError(401, 'unauthorized', 'a valid clinic bearer token is required');
  return request.caller.clinic;
}
