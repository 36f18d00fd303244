// Response headers every page and endpoint carries, set by @fastify/helmet. The SPA needs 'wasm-unsafe-eval' (SEAL
// and tfjs compile wasm) and nothing looser: no inline scripts, no eval, no third-party origins. COOP/COEP make the
// page cross-origin isolated, which lets tfjs's wasm backend use threads. Helmet's defaults are off (useDefaults:
// false) so no directive such as upgrade-insecure-requests sneaks in and breaks plain-http loopback use.
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
  workerSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'blob:', 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

const PERMISSIONS_POLICY = 'camera=(), microphone=(), geolocation=(), interest-cohort=()';
const COOP = 'same-origin';
const COEP = 'require-corp';
const CORP = 'same-origin';
const REFERRER = 'no-referrer';

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const CONTENT_SECURITY_POLICY = Object.entries(CSP_DIRECTIVES)
  .map(([name, values]) => `${kebab(name)} ${values.join(' ')}`)
  .join('; ');

/** The same headers as a plain map, for Vite's dev server (vite.config.ts), which serves the SPA without Fastify. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'cross-origin-opener-policy': COOP,
  'cross-origin-embedder-policy': COEP,
  'cross-origin-resource-policy': CORP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': REFERRER,
  'permissions-policy': PERMISSIONS_POLICY,
};

export async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    crossOriginOpenerPolicy: { policy: COOP },
    crossOriginEmbedderPolicy: { policy: COEP },
    crossOriginResourcePolicy: { policy: CORP },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: REFERRER },
    // HSTS belongs to the TLS proxy in front; on plain-http loopback it would only confuse browsers.
    strictTransportSecurity: false,
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('permissions-policy', PERMISSIONS_POLICY);
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
