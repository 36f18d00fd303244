// The key relay against an active coordinator: the real coordinator, with every answer it gives the clinics passed
// through an attacker that substitutes its own keys in both directions and grinds for matching codes. The two
// clinics are the honest protocol steps the app takes; "the people" compare the two screens' codes. Whatever the
// attacker does, the relay aborts before any wrapped key is posted, and the abort is in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../common/base64.ts';
import { type HttpCall, httpClient, type RunningCoordinator, startCoordinator, TEST_ADMIN_TOKEN } from './testing.ts';
import type { KeyRelayView } from '../protocol/key-relay.ts';
import { createClinicIdentity } from '../custody/identity.ts';
import { wrapSecretKey } from '../custody/keywrap.ts';
import { answerRelay, RelayAbort, startRelay } from '../custody/relay.ts';
import { relayCommitment, transcriptHash } from '../custody/relay-transcript.ts';
import {
  abortRelay,
  code,
  holderAnswers,
  holderChecksReveal,
  holderReleases,
  type RelayFixture,
  relayFixture,
  requesterAccepts,
  requesterCommits,
  requesterReveals,
} from './relay-testing.ts';
import { sasMatches, shortAuthenticationString } from '../custody/sas.ts';

let coordinator: RunningCoordinator;
let call: HttpCall;
const secret = crypto.getRandomValues(new Uint8Array(2048));
/** Grinding budget per step: far below 10^8, far above what a person would wait for on a phone call. */
const GRIND = 4096;

beforeAll(async () => {
  coordinator = await startCoordinator();
  call = httpClient(coordinator.url);
});
afterAll(() => coordinator.stop());

interface Logged {
  method: string;
  path: string;
}

/**
 * The coordinator in the middle. Towards the holder it plays the requester (its own commitment, identity and
 * ephemeral key); towards the requester it plays the holder. `reveal` picks what it shows the holder once the
 * requester has opened its commitment: its own committed opening, or one ground to make the holder's code equal
 * the requester's (which it can compute by then).
 */
async function maliciousCoordinator(f: RelayFixture, opts: { towardsHolder: boolean; towardsRequester: boolean; reveal: 'committed' | 'ground' }) {
  const attacker = await createClinicIdentity();
  const asRequester = await startRelay(f.federationId, f.requester.clinicId, attacker.publicKeyRaw);
  const asHolder = await answerRelay(
    { federationId: f.federationId, requesterClinicId: f.requester.clinicId, requesterIdentityKey: f.requester.identity.publicKeyRaw, commitment: new Uint8Array(32) },
    f.holder.clinicId,
    attacker.publicKeyRaw,
  );
  const log: Logged[] = [];
  const grinds = { reveal: 0 };
  let realHolderAnswer: KeyRelayView | undefined;
  let requesterCode: string | undefined;
  let groundReveal: { ephemeralKey: string; nonce: string } | undefined;

  const matchingDigits = (a: string, b: string) => [...a].filter((ch, i) => ch === b[i] && ch !== ' ').length;

  const rewriteView = (v: KeyRelayView, token: string): KeyRelayView => {
    if (token === f.holder.token && opts.towardsHolder) {
      const shown = { ...v, requesterIdentityKey: toBase64(attacker.publicKeyRaw) };
      if (groundReveal && v.requesterEphemeralKey) return { ...shown, requesterEphemeralKey: groundReveal.ephemeralKey, requesterNonce: groundReveal.nonce };
      return shown;
    }
    if (token === f.requester.token && opts.towardsRequester && v.holderId) {
      realHolderAnswer ??= v;
      // It must choose this answer before the requester opens its commitment: the requester's nonce is still hidden,
      // so there is no code yet to grind against.
      return { ...v, holderIdentityKey: toBase64(attacker.publicKeyRaw), holderEphemeralKey: toBase64(asHolder.holderEphemeralKey), holderNonce: toBase64(asHolder.holderNonce) };
    }
    return v;
  };

  const mitm: HttpCall = async (method, path, o = {}) => {
    log.push({ method, path });
    let json = o.json as Record<string, string> | undefined;
    if (opts.towardsHolder && o.token === f.requester.token && method === 'POST' && path.endsWith('/key-relays')) {
      json = { commitment: toBase64(asRequester.commitment) };
    }
    if (opts.towardsHolder && o.token === f.requester.token && path.endsWith('/reveal') && json) {
      // Now it knows everything the requester's code depends on.
      const shownToRequester = realHolderAnswer && opts.towardsRequester
        ? { holderIdentityKey: attacker.publicKeyRaw, holderEphemeralKey: asHolder.holderEphemeralKey, holderNonce: asHolder.holderNonce }
        : undefined;
      if (shownToRequester) {
        requesterCode = shortAuthenticationString(
          transcriptHash({
            federationId: f.federationId,
            requesterClinicId: f.requester.clinicId,
            requesterIdentityKey: f.requester.identity.publicKeyRaw,
            requesterEphemeralKey: fromBase64(json.ephemeralKey as string),
            requesterNonce: fromBase64(json.nonce as string),
            holderClinicId: f.holder.clinicId,
            ...shownToRequester,
          }),
        );
      }
      const holderView = realHolderAnswer;
      if (opts.reveal === 'ground' && requesterCode && holderView) {
        let best = { digits: -1, nonce: new Uint8Array(32) };
        for (let i = 0; i < GRIND; i++) {
          const nonce = crypto.getRandomValues(new Uint8Array(32));
          const holderCode = shortAuthenticationString(
            transcriptHash({
              ...asRequester.opening,
              requesterNonce: nonce,
              holderClinicId: f.holder.clinicId,
              holderIdentityKey: f.holder.identity.publicKeyRaw,
              holderEphemeralKey: fromBase64(holderView.holderEphemeralKey as string),
              holderNonce: fromBase64(holderView.holderNonce as string),
            }),
          );
          grinds.reveal++;
          const digits = matchingDigits(holderCode, requesterCode);
          if (digits > best.digits) best = { digits, nonce };
        }
        groundReveal = { ephemeralKey: toBase64(asRequester.opening.requesterEphemeralKey), nonce: toBase64(best.nonce) };
      }
      // The real database gets the attacker's committed opening, so it stays consistent with what it stored.
      json = { ephemeralKey: toBase64(asRequester.opening.requesterEphemeralKey), nonce: toBase64(asRequester.opening.requesterNonce) };
    }
    const reply = await call(method, path, { ...o, ...(json ? { json } : {}) });
    if (method === 'GET' && path.endsWith('/key-relays') && o.token) {
      (reply as { body: unknown }).body = (reply.body as KeyRelayView[]).map((v) => rewriteView(v, o.token as string));
      if (!realHolderAnswer) realHolderAnswer = (reply.body as KeyRelayView[]).find((v) => v.holderId && o.token === f.holder.token);
    }
    return reply as never;
  };
  return { mitm, log, grinds, attacker };
}

async function auditActions(): Promise<{ action: string; detail: string }[]> {
  return (await call<{ action: string; detail: string }[]>('GET', '/api/admin/audit', { token: TEST_ADMIN_TOKEN })).body;
}

async function holdsKey(token: string): Promise<boolean> {
  return (await call<{ holdsKey: boolean }>('GET', '/api/me', { token })).body.holdsKey;
}

async function expectAbortedWithoutWrap(f: RelayFixture, relayId: string, log: Logged[], reason: string) {
  expect(log.some((l) => l.method === 'PUT' && l.path.endsWith('/wrapped'))).toBe(false);
  const views = (await call<KeyRelayView[]>('GET', `/api/federations/${f.federationId}/key-relays`, { token: f.holder.token })).body;
  expect(views.find((v) => v.relayId === relayId)?.status).toBe('aborted');
  expect((await call('GET', `/api/federations/${f.federationId}/key-relays/${relayId}/wrapped`, { token: f.requester.token })).status).toBe(409);
  expect(await holdsKey(f.requester.token)).toBe(false);
  const aborted = (await auditActions()).filter((e) => e.action === 'key-relay.aborted' && e.detail.includes(relayId));
  expect(aborted.map((e) => JSON.parse(e.detail).reason)).toContain(reason);
}

describe('key relay through a coordinator that substitutes keys', () => {
  it('an honest coordinator: both screens show the same code and the key arrives', async () => {
    const f = await relayFixture(call);
    const { relayId, session } = await requesterCommits(call, f);
    const held = await holderAnswers(call, f, relayId);
    const atRequester = await requesterReveals(call, f, relayId, session);
    const atHolder = await holderChecksReveal(call, f, relayId, held);
    expect(sasMatches(code(atRequester), code(atHolder))).toBe(true);
    await holderReleases(call, f, relayId, held, atHolder, secret);
    expect(Array.from(await requesterAccepts(call, f, relayId, session, atRequester))).toEqual(Array.from(secret));
    expect(await holdsKey(f.requester.token)).toBe(true);
  });

  it('substitution in both directions, the attacker revealing what it committed to: the codes differ and the holder aborts before wrapping', async () => {
    const f = await relayFixture(call);
    const attack = await maliciousCoordinator(f, { towardsHolder: true, towardsRequester: true, reveal: 'committed' });
    const { relayId, session } = await requesterCommits(attack.mitm, f);
    const held = await holderAnswers(attack.mitm, f, relayId);
    const atRequester = await requesterReveals(attack.mitm, f, relayId, session);
    const atHolder = await holderChecksReveal(attack.mitm, f, relayId, held);
    // The attacker's keys really are in both transcripts, and each side's commitment check passed.
    expect(atHolder.requesterIdentityKey).toEqual(attack.attacker.publicKeyRaw);
    expect(atRequester.holderIdentityKey).toEqual(attack.attacker.publicKeyRaw);
    // The holder's person types the code the requester's person reads out.
    expect(sasMatches(code(atRequester), code(atHolder))).toBe(false);
    await abortRelay(attack.mitm, f, f.holder, relayId, 'code-mismatch');
    await expectAbortedWithoutWrap(f, relayId, attack.log, 'code-mismatch');
  });

  it('substitution in both directions with a reveal ground to match the requester’s code: the commitment check stops it', async () => {
    const f = await relayFixture(call);
    const attack = await maliciousCoordinator(f, { towardsHolder: true, towardsRequester: true, reveal: 'ground' });
    const { relayId, session } = await requesterCommits(attack.mitm, f);
    const held = await holderAnswers(attack.mitm, f, relayId);
    await requesterReveals(attack.mitm, f, relayId, session);
    expect(attack.grinds.reveal).toBe(GRIND);
    const checked = holderChecksReveal(attack.mitm, f, relayId, held);
    await expect(checked).rejects.toThrow(RelayAbort);
    await expect(checked).rejects.toMatchObject({ reason: 'commitment-mismatch' });
    await abortRelay(attack.mitm, f, f.holder, relayId, 'commitment-mismatch');
    await expectAbortedWithoutWrap(f, relayId, attack.log, 'commitment-mismatch');
  });

  it('substitution towards the requester only: its code differs from the holder’s', async () => {
    const f = await relayFixture(call);
    const attack = await maliciousCoordinator(f, { towardsHolder: false, towardsRequester: true, reveal: 'committed' });
    const { relayId, session } = await requesterCommits(attack.mitm, f);
    const held = await holderAnswers(attack.mitm, f, relayId);
    const atRequester = await requesterReveals(attack.mitm, f, relayId, session);
    const atHolder = await holderChecksReveal(attack.mitm, f, relayId, held);
    expect(sasMatches(code(atHolder), code(atRequester))).toBe(false);
    await abortRelay(attack.mitm, f, f.requester, relayId, 'code-mismatch');
    await expectAbortedWithoutWrap(f, relayId, attack.log, 'code-mismatch');
  });

  it('a wrap the coordinator made itself does not open under the confirmed transcript, and a wrap never reaches an aborted relay', async () => {
    const f = await relayFixture(call);
    const { relayId, session } = await requesterCommits(call, f);
    const held = await holderAnswers(call, f, relayId);
    const atRequester = await requesterReveals(call, f, relayId, session);
    const atHolder = await holderChecksReveal(call, f, relayId, held);
    // The attacker cannot compute the holder's wrapping key; the best it has is a wrap under keys of its own.
    const attacker = await createClinicIdentity();
    const own = await answerRelay({ federationId: f.federationId, requesterClinicId: f.requester.clinicId, requesterIdentityKey: f.requester.identity.publicKeyRaw, commitment: relayCommitment(session.opening) }, f.holder.clinicId, attacker.publicKeyRaw);
    const forged = await wrapSecretKey(new Uint8Array(2048), { identityPrivateKey: attacker.privateKey, ephemeralPrivateKey: own.ephemeralPrivateKey }, { ...atHolder, holderIdentityKey: attacker.publicKeyRaw, holderEphemeralKey: own.holderEphemeralKey });
    expect((await call('PUT', `/api/federations/${f.federationId}/key-relays/${relayId}/wrapped`, { token: f.requester.token, binary: forged })).status).toBe(403);
    await holderReleases(call, f, relayId, held, atHolder, secret);
    const swapped: HttpCall = async (method, path, o = {}) => {
      const reply = await call(method, path, o);
      return (method === 'GET' && path.endsWith('/wrapped') ? { ...reply, bytes: forged } : reply) as never;
    };
    await expect(requesterAccepts(swapped, f, relayId, session, atRequester)).rejects.toThrow(/does not open/);
    await abortRelay(call, f, f.requester, relayId, 'transcript-mismatch');
    expect(await holdsKey(f.requester.token)).toBe(false);
    expect((await call('POST', `/api/federations/${f.federationId}/key-relays/${relayId}/accept`, { token: f.requester.token })).status).toBe(409);
    expect((await call('PUT', `/api/federations/${f.federationId}/key-relays/${relayId}/wrapped`, { token: f.holder.token, binary: forged })).status).toBe(409);
  });
});
