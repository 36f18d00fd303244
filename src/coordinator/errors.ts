// One error type for everything the coordinator refuses on purpose: it carries its HTTP status and a stable code,
// and one handler turns it (and the protocol decoders' errors) into the {error, message} body every client reads.
import type { FastifyError, FastifyInstance } from 'fastify';
import { HeError } from '../he/errors.ts';
import { BundleError } from '../protocol/bundle.ts';
import { InferenceModelError } from '../protocol/inference-model.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** Fastify and its plugins read `statusCode`; `status` is the same number. */
  readonly statusCode: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.statusCode = status;
    this.code = code;
  }
}

/**
 * What an HE failure while checking a caller's input means over HTTP, decided here for every route: SEAL's (or the
 * HE core's) verdict on the bytes is the caller's fault, a 400 with the route's `code` (and `what` names the part);
 * a failure of the pool or its worker thread ('worker') is the coordinator's and goes on as it is, a 500.
 */
export function heInputError(e: unknown, code: string, what?: string): unknown {
  if (e instanceof HeError && e.code !== 'worker') return new HttpError(400, code, what ? `${what}: ${e.message}` : e.message);
  return e;
}

/** Maps an error that is not an HttpError yet to one, or returns undefined when it is an internal failure. */
function asHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof BundleError) return new HttpError(400, `bundle-${error.code}`, error.message);
  if (error instanceof InferenceModelError) return new HttpError(400, 'invalid-model', error.message);
  const e = error as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) return new HttpError(400, 'invalid-request', e.message ?? 'invalid request');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new HttpError(e.statusCode, (e.code ?? 'bad-request').toLowerCase(), e.message ?? 'bad request');
  }
  return undefined;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    const http = asHttpError(error);
    if (http) {
      if (http.status >= 500) request.log.error({ err: error }, http.message);
      return reply.status(http.status).send({ error: http.code, message: http.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error; the request was not applied' });
  });
}

/** Out of disk space (or over the blob quota): 507, and nothing of the request was stored. */
export class StorageFull extends HttpError {
  constructor(message: string) {
    super(507, 'insufficient-storage', message);
  }
}

/** Stored bytes that are missing or no longer match their hash: the coordinator's fault, said as what it is. */
export class StorageFault extends HttpError {
  constructor(message: string) {
    super(500, 'storage-fault', message);
  }
}
