// The OpenAPI document is assembled from the same route table that registers the routes, so it cannot drift from
// what the server accepts. Binary bodies are cipherpath bundles or envelopes (application/octet-stream).
export type Auth = 'none' | 'clinic' | 'admin';

export interface RouteDoc {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  summary: string;
  auth: Auth;
  params?: object;
  body?: object | 'binary';
  response: 'json' | 'binary' | 'text';
}

export function openApiDocument(routes: readonly RouteDoc[], version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([a-zA-Z]+)/g, '{$1}');
    const params = (r.params as { properties?: Record<string, object> } | undefined)?.properties ?? {};
    const operation: Record<string, unknown> = {
      summary: r.summary,
      parameters: Object.entries(params).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      responses: {
        '200': {
          description: 'success',
          content: { [r.response === 'json' ? 'application/json' : r.response === 'binary' ? 'application/octet-stream' : 'text/plain']: {} },
        },
        '400': { description: 'invalid request', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ...(r.auth === 'none' ? {} : { '401': { description: 'missing or invalid bearer token' } }),
        '429': { description: 'rate limited; see Retry-After' },
      },
    };
    if (r.auth !== 'none') operation.security = [{ [r.auth === 'admin' ? 'adminToken' : 'clinicToken']: [] }];
    if (r.body) {
      operation.requestBody = {
        required: true,
        content: r.body === 'binary' ? { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } : { 'application/json': { schema: r.body } },
      };
    }
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'cipherpath coordinator', version, description: 'Federated rounds over CKKS ciphertexts; the coordinator never holds a secret key.' },
    paths,
    components: {
      securitySchemes: {
        clinicToken: { type: 'http', scheme: 'bearer', description: 'issued once at enrolment; stored hashed' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN or the token printed at first start' },
      },
      schemas: {
        Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  };
}
