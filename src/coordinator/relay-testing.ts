// Test harness for the key relay: the two honest clinics' steps over HTTP, in the order the app takes them
// (src/app/stores/keys.ts), so tests can put a coordinator of their choosing between them. Never used by production.
import { adminFederation, enrol, type HttpCall } from './testing.ts';
import type { KeyRelayCreated, KeyRelayView } from '../protocol/key-relay.ts';
import type { KeyRelayAbortReason } from '../protocol/vocabulary.ts';
import { type ClinicIdentity, createClinicIdentity } from '../custody/identity.ts';
import { unwrapSecretKey, wrapSecretKey } from '../custody/keywrap.ts';
import { answerRelay, type HolderSession, holderTranscript, requesterTranscript, type RequesterSession, startRelay } from '../custody/relay.ts';
import { contribution, holderAnswer, requesterReveal, seenRequest } from '../custody/relay-wire.ts';
import { type RelayTranscript, transcriptHash } from '../custody/relay-transcript.ts';
import { shortAuthenticationString } from '../custody/sas.ts';
import { toBase64 } from '../common/base64.ts';

export interface TestClinic {
  clinicId: string;
  token: string;
  identity: ClinicIdentity;
}

export interface RelayFixture {
  federationId: string;
  holder: TestClinic;
  requester: TestClinic;
}

/** A federation with a founding key holder and one clinic that needs the key, both with identity keys published. */
export async function relayFixture(call: HttpCall): Promise<RelayFixture> {
  const { federationId, codes } = await adminFederation(call, { minClinics: 2, invites: 2 });
  const clinic = async (code: string, name: string): Promise<TestClinic> => {
    const enrolled = await enrol(call, code, name);
    const identity = await createClinicIdentity();
    const put = await call('PUT', '/api/me/public-key', { token: enrolled.token, binary: identity.publicKeyRaw });
    if (put.status !== 200) throw new Error(`public key of ${name}: ${put.status}`);
    return { ...enrolled, identity };
  };
  const holder = await clinic(codes[0] as string, 'Holder clinic');
  const requester = await clinic(codes[1] as string, 'Requester clinic');
  const founded = await call('POST', `/api/federations/${federationId}/founder`, { token: holder.token });
  if (founded.status !== 200) throw new Error(`founder: ${founded.status}`);
  return { federationId, holder, requester };
}

const relays = (f: RelayFixture) => `/api/federations/${f.federationId}/key-relays`;

async function expectOk<T>(what: string, reply: Promise<{ status: number; body: T }>): Promise<T> {
  const r = await reply;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function viewOf(call: HttpCall, f: RelayFixture, clinic: TestClinic, relayId: string): Promise<KeyRelayView> {
  const list = await expectOk('list relays', call<KeyRelayView[]>('GET', relays(f), { token: clinic.token }));
  const view = list.find((v) => v.relayId === relayId);
  if (!view) throw new Error(`relay ${relayId} is not listed for ${clinic.clinicId}`);
  return view;
}

export const code = (t: RelayTranscript): string => shortAuthenticationString(transcriptHash(t));

/** Step 1, requester: commit. */
export async function requesterCommits(call: HttpCall, f: RelayFixture): Promise<{ relayId: string; session: RequesterSession }> {
  const session = await startRelay(f.federationId, f.requester.clinicId, f.requester.identity.publicKeyRaw);
  const created = await expectOk('commit', call<KeyRelayCreated>('POST', relays(f), { token: f.requester.token, json: { commitment: toBase64(session.commitment) } }));
  return { relayId: created.relayId, session };
}

/** Step 2, holder: answer the commitment it sees. */
export async function holderAnswers(call: HttpCall, f: RelayFixture, relayId: string): Promise<HolderSession> {
  const view = await viewOf(call, f, f.holder, relayId);
  const session = await answerRelay(seenRequest(f.federationId, view), f.holder.clinicId, f.holder.identity.publicKeyRaw);
  await expectOk('answer', call('POST', `${relays(f)}/${relayId}/response`, { token: f.holder.token, json: contribution(session.holderEphemeralKey, session.holderNonce) }));
  return session;
}

/** Step 3, requester: read the answer, open the commitment; its screen now shows the code. */
export async function requesterReveals(call: HttpCall, f: RelayFixture, relayId: string, session: RequesterSession): Promise<RelayTranscript> {
  const transcript = requesterTranscript(session, holderAnswer(await viewOf(call, f, f.requester, relayId)));
  await expectOk('reveal', call('POST', `${relays(f)}/${relayId}/reveal`, { token: f.requester.token, json: contribution(session.opening.requesterEphemeralKey, session.opening.requesterNonce) }));
  return transcript;
}

/** Step 4, holder: check the reveal against the commitment it answered (throws RelayAbort); its screen shows the code. */
export async function holderChecksReveal(call: HttpCall, f: RelayFixture, relayId: string, session: HolderSession): Promise<RelayTranscript> {
  return holderTranscript(session, requesterReveal(await viewOf(call, f, f.holder, relayId)));
}

/** Step 5, holder, only after the person confirmed the code: wrap under the transcript and deliver. */
export async function holderReleases(call: HttpCall, f: RelayFixture, relayId: string, session: HolderSession, transcript: RelayTranscript, secret: Uint8Array): Promise<void> {
  const wrapped = await wrapSecretKey(secret, { identityPrivateKey: f.holder.identity.privateKey, ephemeralPrivateKey: session.ephemeralPrivateKey }, transcript);
  await expectOk('deliver', call('PUT', `${relays(f)}/${relayId}/wrapped`, { token: f.holder.token, binary: wrapped }));
}

/** Step 6, requester, only after its person confirmed too: open the wrap under its own transcript and accept. */
export async function requesterAccepts(call: HttpCall, f: RelayFixture, relayId: string, session: RequesterSession, transcript: RelayTranscript): Promise<Uint8Array> {
  const wrapped = await call('GET', `${relays(f)}/${relayId}/wrapped`, { token: f.requester.token });
  if (wrapped.status !== 200) throw new Error(`fetch wrap: ${wrapped.status}`);
  const secret = await unwrapSecretKey(wrapped.bytes, { identityPrivateKey: f.requester.identity.privateKey, ephemeralPrivateKey: session.ephemeralPrivateKey }, transcript);
  await expectOk('accept', call('POST', `${relays(f)}/${relayId}/accept`, { token: f.requester.token }));
  return secret;
}

export async function abortRelay(call: HttpCall, f: RelayFixture, clinic: TestClinic, relayId: string, reason: KeyRelayAbortReason): Promise<void> {
  await expectOk('abort', call('POST', `${relays(f)}/${relayId}/abort`, { token: clinic.token, json: { reason } }));
}
