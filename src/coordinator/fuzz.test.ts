// Hostile input across every route of the OpenAPI document: malformed JSON, wrong types, oversize bodies, truncated
// and random ciphertexts, envelopes of the wrong preset, unknown ids. The service must answer every one with a 4xx,
// stay up, and keep its memory bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/mulberry32.ts';
import { HeContext } from '../he/context.ts';
import { encryptTokenBatch, generateSecretKey } from '../he/tokens.ts';
import { encodeBundle } from '../protocol/bundle.ts';
import { adminFederation, enrol, type HttpCall, httpClient, type RunningCoordinator, startCoordinator, TEST_ADMIN_TOKEN } from './testing.ts';

let coordinator: RunningCoordinator;
let call: HttpCall;

beforeAll(async () => {
  coordinator = await startCoordinator();
  call = httpClient(coordinator.url);
});
afterAll(async () => {
  await coordinator.stop();
});

describe('malformed requests', () => {
  it('answers 500+ hostile requests across every documented route without a single 5xx', async () => {
    const { federationId, codes } = await adminFederation(call, { minClinics: 2, invites: 2 });
    const clinic = await enrol(call, codes[0] as string, 'Fuzz');
    const ctx = await HeContext.create('agg-v1');
    const infCtx = await HeContext.create('inf-v1');
    const good = await encryptTokenBatch(ctx, await generateSecretKey(ctx, federationId), federationId, [Float32Array.from({ length: 32 }, (_, i) => i / 7)]);
    const wrongPreset = await encryptTokenBatch(infCtx, await generateSecretKey(infCtx, federationId), federationId, [Float32Array.from({ length: 32 }, (_, i) => i)]);
    const goodCt = good[0] as Uint8Array;
    const rand = mulberry32(7);
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    const flip = (b: Uint8Array, at: number) => {
      const c = b.slice();
      c[at % c.length] = (c[at % c.length] ?? 0) ^ 0xff;
      return c;
    };

    const binaryBodies: Uint8Array[] = [
      new Uint8Array(0),
      randomBytes(7),
      randomBytes(4096),
      encodeBundle([randomBytes(300)]),
      encodeBundle(wrongPreset),
      encodeBundle([goodCt.subarray(0, goodCt.length - 1)]),
      encodeBundle([goodCt.subarray(0, 60)]),
      encodeBundle([flip(goodCt, 0)]),
      encodeBundle([flip(goodCt, 5)]),
      encodeBundle([flip(goodCt, 40)]),
      encodeBundle([flip(goodCt, 200)]),
      encodeBundle([goodCt]).subarray(0, 100),
      new Uint8Array(2 * 1024 * 1024), // over the 1 MiB cap of most binary routes
    ];
    const jsonBodies: string[] = [
      '{',
      '',
      'null',
      '[]',
      '"text"',
      '42',
      '{"name": 1, "presetId": [], "minClinics": "3"}',
      '{"inviteCode": "AAAA-BBBB-CCCC"}',
      '{"inviteCode": "x", "clinicName": "y"}',
      `{"inviteCode": "AAAA-BBBB-CCCC", "clinicName": "${'n'.repeat(500)}"}`,
      '{"count": -1}',
      '{"count": 1e9}',
      '{"count": "2"}',
      '{"name": "x", "presetId": "agg-v1", "minClinics": 0}',
      '{"name": "x", "presetId": "bfv", "minClinics": 1}',
      '{"name": "x", "presetId": "agg-v1", "minClinics": 1, "extra": true}',
      `{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{"pad": "${'x'.repeat(100 * 1024)}"}`,
      '{"__proto__": {"admin": true}}',
    ];
    const ids = ['fed-unknown', federationId, '..', 'A'.repeat(300), '%00', 'fed%2F..%2Fx', '-1'];
    const roundIds = ['1', '0', '-1', '1.5', 'x', '99999999', '2'];
    const tokens = [undefined, 'garbage', 'x'.repeat(43), clinic.token, TEST_ADMIN_TOKEN];

    const doc = await call<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> }>('GET', '/api/openapi.json');
    const statuses: number[] = [];
    const failures: string[] = [];
    const rssBefore = process.memoryUsage().rss;
    let sent = 0;
    for (const [template, methods] of Object.entries(doc.body.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const binary = op.requestBody?.content['application/octet-stream'] !== undefined;
        const bodies: { binary?: Uint8Array; raw?: string; contentType?: string }[] = binary
          ? [...binaryBodies.map((b) => ({ binary: b })), { raw: '{"json": "instead"}', contentType: 'application/json' }]
          : [...jsonBodies.map((raw) => ({ raw })), { raw: 'plain text', contentType: 'text/plain' }, { binary: randomBytes(64) }];
        const variants = method === 'get' ? Math.max(12, bodies.length) : bodies.length * 2;
        for (let v = 0; v < variants; v++) {
          const path = template
            .replace('{fid}', encodeURIComponent(ids[v % ids.length] as string).replace('%25', '%'))
            .replace('{round}', roundIds[v % roundIds.length] as string)
            .replace('{kind}', v % 3 === 0 ? 'galois-keys' : v % 3 === 1 ? 'secret-key' : 'x')
            .replace('{clinicId}', v % 2 ? clinic.clinicId : 'cl-nobody');
          const body = method === 'get' ? {} : (bodies[v % bodies.length] ?? {});
          const token = tokens[(v + sent) % tokens.length];
          const r = await call(method.toUpperCase(), path, { token, ...body });
          sent++;
          statuses.push(r.status);
          if (r.status >= 500) failures.push(`${method.toUpperCase()} ${path} -> ${r.status} ${new TextDecoder().decode(r.bytes).slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(500);
    expect(statuses.filter((s) => s >= 400).length).toBeGreaterThan(sent * 0.8);
    expect((await call('GET', '/healthz')).status).toBe(200);
    const growthMb = (process.memoryUsage().rss - rssBefore) / 1e6;
    expect(growthMb).toBeLessThan(200);
    ctx.dispose();
    infCtx.dispose();
  });
});
