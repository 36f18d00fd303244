// API tests against the real coordinator: real Fastify, real node:sqlite, real node-seal in worker threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../common/base64.ts';
import { createClinicIdentity } from '../custody/identity.ts';
import { code, holderAnswers, holderChecksReveal, holderReleases, relayFixture, requesterAccepts, requesterCommits, requesterReveals } from './relay-testing.ts';
import { HeContext } from '../he/context.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey } from '../he/tokens.ts';
import type { RoundView } from '../protocol/api.ts';
import type { KeyRelayView } from '../protocol/key-relay.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { adminFederation, enrol, type HttpCall, type PooledCoordinator, startPooledCoordinator, TEST_ADMIN_TOKEN } from './testing.ts';

let running: PooledCoordinator;
let call: HttpCall;
let ctx: HeContext;

beforeAll(async () => {
  running = await startPooledCoordinator();
  call = running.call;
  ctx = await HeContext.create('agg-v1');
});

afterAll(async () => {
  await running.stop();
});

const DIM = 16;
const tokensFor = (clinic: number, n: number): Float32Array[] =>
  Array.from({ length: n }, (_, t) => Float32Array.from({ length: DIM }, (_, d) => Math.sin(clinic * 31 + t * 7 + d) * 3));

async function waitForRound(token: string, fid: string, round: number, status: RoundView['status'], timeoutMs = 20_000): Promise<RoundView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await call<RoundView>('GET', `/api/federations/${fid}/rounds/${round}`, { token });
    if (r.body.status === status) return r.body;
    if (Date.now() > until) throw new Error(`round ${round} stayed ${r.body.status}, wanted ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('enrolment and authorisation', () => {
  it('redeems an invite exactly once and returns a working bearer token', async () => {
    const { codes, federationId } = await adminFederation(call, { minClinics: 1, invites: 1 });
    const clinic = await enrol(call, codes[0] as string, 'Alpha');
    const me = await call<{ clinicName: string; federation: { id: string } }>('GET', '/api/me', { token: clinic.token });
    expect(me.status).toBe(200);
    expect(me.body.clinicName).toBe('Alpha');
    expect(me.body.federation.id).toBe(federationId);
    const again = await call('POST', '/api/enrol', { json: { inviteCode: codes[0], clinicName: 'Beta' } });
    expect(again.status).toBe(403);
    expect((await call('GET', '/api/me', { token: 'x'.repeat(43) })).status).toBe(401);
    expect((await call('GET', '/api/me')).status).toBe(401);
  });

  it('refuses admin routes without the admin token', async () => {
    const { codes, federationId } = await adminFederation(call, { minClinics: 1, invites: 1 });
    const clinic = await enrol(call, codes[0] as string, 'Alpha');
    for (const token of [undefined, clinic.token, `${TEST_ADMIN_TOKEN}x`]) {
      expect((await call('GET', '/api/admin/federations', { token })).status).toBe(401);
      expect((await call('POST', '/api/admin/federations', { token, json: { name: 'x', presetId: 'agg-v1', minClinics: 1 } })).status).toBe(401);
      expect((await call('POST', `/api/admin/federations/${federationId}/invites`, { token, json: { count: 1 } })).status).toBe(401);
      expect((await call('GET', '/api/admin/audit', { token })).status).toBe(401);
    }
  });

  it('keeps clinics out of other federations and out of each other’s wrapped keys', async () => {
    const a = await adminFederation(call, { minClinics: 1, invites: 2 });
    const b = await adminFederation(call, { minClinics: 1, invites: 1 });
    const a1 = await enrol(call, a.codes[0] as string, 'A1');
    const a2 = await enrol(call, a.codes[1] as string, 'A2');
    const b1 = await enrol(call, b.codes[0] as string, 'B1');
    const bundle = encodeBundle(await encryptTokenBatch(ctx, await generateSecretKey(ctx, a.federationId), a.federationId, tokensFor(1, 2)));
    expect((await call('GET', `/api/federations/${a.federationId}/rounds/1`, { token: b1.token })).status).toBe(404);
    expect((await call('POST', `/api/federations/${a.federationId}/rounds/1/uploads`, { token: b1.token, binary: bundle })).status).toBe(404);
    expect((await call('GET', `/api/federations/${a.federationId}/key-relays/kr-${a2.clinicId}/wrapped`, { token: a1.token })).status).toBe(404);
    expect((await call('GET', `/api/federations/${a.federationId}/key-relays`, { token: b1.token })).status).toBe(404);
  });
});

describe('key relay', () => {
  it('takes each relay step only from the party and in the order the protocol gives it', async () => {
    const f = await relayFixture(call);
    const relaysPath = `/api/federations/${f.federationId}/key-relays`;
    const outsider = await enrol(call, (await call<{ codes: string[] }>('POST', `/api/admin/federations/${f.federationId}/invites`, { token: TEST_ADMIN_TOKEN, json: { count: 1 } })).body.codes[0] as string, 'Outsider');
    const secretKey = await generateSecretKey(ctx, f.federationId);
    expect((await call('PUT', '/api/me/public-key', { token: outsider.token, binary: new Uint8Array(64) })).status).toBe(400);
    expect((await call('POST', `/api/federations/${f.federationId}/founder`, { token: f.requester.token })).status).toBe(409);
    expect((await call('POST', relaysPath, { token: outsider.token, json: { commitment: Buffer.alloc(32).toString('base64') } })).status).toBe(409); // no identity key
    expect((await call('POST', relaysPath, { token: f.holder.token, json: { commitment: Buffer.alloc(32).toString('base64') } })).status).toBe(409); // holds the key
    expect((await call('POST', relaysPath, { token: f.requester.token, json: { commitment: 'short' } })).status).toBe(400);

    const { relayId, session } = await requesterCommits(call, f);
    const step = (s: string) => `${relaysPath}/${relayId}/${s}`;
    const contribution = { ephemeralKey: toBase64(session.opening.requesterEphemeralKey), nonce: toBase64(session.opening.requesterNonce) };
    expect((await call('POST', step('reveal'), { token: f.requester.token, json: contribution })).status).toBe(409); // nobody answered yet
    expect((await call('POST', step('response'), { token: f.requester.token, json: contribution })).status).toBe(403); // not a key holder
    expect((await call('POST', step('response'), { token: f.holder.token, json: { ...contribution, ephemeralKey: Buffer.alloc(65).toString('base64') } })).status).toBe(400);
    expect((await call<KeyRelayView[]>('GET', relaysPath, { token: outsider.token })).body).toEqual([]);
    const held = await holderAnswers(call, f, relayId);
    expect((await call('POST', step('response'), { token: f.holder.token, json: contribution })).status).toBe(409); // answered already
    expect((await call('POST', step('reveal'), { token: f.holder.token, json: contribution })).status).toBe(403);
    const atRequester = await requesterReveals(call, f, relayId, session);
    const atHolder = await holderChecksReveal(call, f, relayId, held);
    expect(code(atHolder)).toBe(code(atRequester));
    expect((await call('GET', step('wrapped'), { token: f.requester.token })).status).toBe(409); // nothing released yet
    expect((await call('PUT', step('wrapped'), { token: f.holder.token, binary: new Uint8Array(10) })).status).toBe(400);
    await holderReleases(call, f, relayId, held, atHolder, secretKey);
    expect((await call('GET', step('wrapped'), { token: outsider.token })).status).toBe(404);
    expect((await call('POST', step('accept'), { token: f.holder.token })).status).toBe(403);
    const received = await requesterAccepts(call, f, relayId, session, atRequester);
    expect(Buffer.from(received).equals(Buffer.from(secretKey))).toBe(true);
    expect((await call('POST', step('abort'), { token: f.requester.token, json: { reason: 'code-mismatch' } })).status).toBe(409); // accepted already
    expect((await call('POST', step('abort'), { token: f.requester.token, json: { reason: 'because' } })).status).toBe(400);
    expect((await call<{ holdsKey: boolean }>('GET', '/api/me', { token: f.requester.token })).body.holdsKey).toBe(true);

    // A third clinic asks; the first holder answers, so the second (now a holder too) may neither answer nor deliver.
    const third = { ...outsider, identity: await createClinicIdentity() };
    expect((await call('PUT', '/api/me/public-key', { token: third.token, binary: third.identity.publicKeyRaw })).status).toBe(200);
    const g = { ...f, requester: third };
    const next = await requesterCommits(call, g);
    const answered = await holderAnswers(call, g, next.relayId);
    expect((await call('POST', `${relaysPath}/${next.relayId}/response`, { token: f.requester.token, json: contribution })).status).toBe(409);
    await requesterReveals(call, g, next.relayId, next.session);
    expect(await holderChecksReveal(call, g, next.relayId, answered)).toMatchObject({ requesterClinicId: third.clinicId });
    expect((await call('PUT', `${relaysPath}/${next.relayId}/wrapped`, { token: f.requester.token, binary: new Uint8Array(100) })).status).toBe(403);

    const audit = await call<{ action: string }[]>('GET', '/api/admin/audit', { token: TEST_ADMIN_TOKEN });
    expect(audit.body.map((e) => e.action)).toEqual(expect.arrayContaining(['federation.founded', 'key-relay.started', 'key-relay.answered', 'key-relay.revealed', 'key-relay.wrapped', 'key-relay.accepted']));
  });
});

describe('rounds', () => {
  it('runs a full round with three clinics and serves a sum that decrypts to the plaintext sum', async () => {
    const { federationId, codes } = await adminFederation(call, { minClinics: 3, invites: 3 });
    const clinics = await Promise.all(codes.map((c, i) => enrol(call, c, `C${i}`)));
    const secretKey = await generateSecretKey(ctx, federationId);
    for (const [i, clinic] of clinics.entries()) {
      const bundle = encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokensFor(i, 5)));
      const r = await call<{ duplicate: boolean }>('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: bundle });
      expect(r.status).toBe(201);
      // Idempotent: the same bytes again are acknowledged, different bytes are refused.
      const again = await call<{ duplicate: boolean }>('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: bundle });
      expect(again.body.duplicate).toBe(true);
      if (i < 2) {
        const other = encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokensFor(9, 5)));
        expect((await call('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: other })).status).toBe(409);
      }
    }
    const token = clinics[0]?.token as string;
    const closed = await waitForRound(token, federationId, 1, 'closed');
    expect(closed.submitted.sort()).toEqual(['C0', 'C1', 'C2']);
    const aggregate = await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token });
    const sum = await decryptTokenBatch(ctx, secretKey, decodeBundle(aggregate.bytes), 5, DIM);
    for (let t = 0; t < 5; t++) {
      for (let d = 0; d < DIM; d++) {
        const expected = [0, 1, 2].reduce((s, c) => s + (tokensFor(c, 5)[t]?.[d] ?? 0), 0);
        expect(Math.abs((sum[t]?.[d] ?? NaN) - expected)).toBeLessThan(1e-6);
      }
    }
    // Round 2 is open; a straggler for round 1 is told where to go.
    const late = await call<{ error: string; message: string }>('POST', `/api/federations/${federationId}/rounds/1/uploads`, {
      token: clinics[0]?.token,
      binary: encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokensFor(7, 5))),
    });
    expect(late.status).toBe(409);
    expect(late.body.message).toContain('round 2');
    expect((await call<RoundView>('GET', `/api/federations/${federationId}/rounds/2`, { token })).body.status).toBe('collecting');
  });

  it('waits for the deadline when only the quorum has uploaded, and keeps collecting below the quorum', async () => {
    const { federationId, codes } = await adminFederation(call, { minClinics: 2, invites: 3, roundSeconds: 5 });
    const clinics = await Promise.all(codes.map((c, i) => enrol(call, c, `Q${i}`)));
    const secretKey = await generateSecretKey(ctx, federationId);
    const upload = async (i: number, round: number) =>
      call('POST', `/api/federations/${federationId}/rounds/${round}/uploads`, {
        token: clinics[i]?.token,
        binary: encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokensFor(i, 1))),
      });
    const token = clinics[0]?.token as string;
    expect((await upload(0, 1)).status).toBe(201);
    expect((await upload(1, 1)).status).toBe(201);
    // Quorum reached but not everyone: still collecting until the deadline, then closed without the straggler.
    expect((await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token })).body.status).toBe('collecting');
    const closed = await waitForRound(token, federationId, 1, 'closed', 15_000);
    expect(closed.submitted.sort()).toEqual(['Q0', 'Q1']);
    // Round 2: one upload only (below quorum); past the deadline it keeps collecting.
    expect((await upload(2, 2)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const r2 = await call<RoundView>('GET', `/api/federations/${federationId}/rounds/2`, { token });
    expect(r2.body.status).toBe('collecting');
    expect(Date.parse(r2.body.deadlineAt)).toBeLessThan(Date.now());
    expect((await upload(0, 2)).status).toBe(201);
    await waitForRound(token, federationId, 2, 'closed', 10_000);
  });

  it('rejects ciphertexts of another federation or of no federation at all', async () => {
    const { federationId, codes } = await adminFederation(call, { minClinics: 1, invites: 1 });
    const clinic = await enrol(call, codes[0] as string, 'V');
    const foreign = encodeBundle(await encryptTokenBatch(ctx, await generateSecretKey(ctx, 'fed-other'), 'fed-other', tokensFor(1, 1)));
    const r = await call<{ error: string; message: string }>('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: foreign });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid-ciphertext');
    expect(r.body.message).toMatch(/federation/);
    const random = encodeBundle([crypto.getRandomValues(new Uint8Array(5000))]);
    expect((await call('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: random })).status).toBe(400);
  });
});

describe('service surface', () => {
  it('serves an OpenAPI document listing every route, health, metrics and security headers everywhere', async () => {
    const doc = await call<{ paths: Record<string, object> }>('GET', '/api/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/enrol', '/api/federations/{fid}/rounds/{round}/uploads', '/healthz', '/metrics']));
    for (const path of ['/healthz', '/api/openapi.json', '/api/me', '/nope', '/metrics']) {
      const r = await call('GET', path);
      expect(r.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'");
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    }
    // Demo mode (on by default) hands out fresh three-clinic federations for walkthroughs.
    const demo = await call<{ federationId: string; codes: string[] }>('POST', '/api/demo/federations');
    expect(demo.status).toBe(201);
    expect(demo.body.codes).toHaveLength(3);
    const metrics = await call('GET', '/metrics');
    expect(new TextDecoder().decode(metrics.bytes)).toContain('cipherpath_http_requests_total');
  });
});
