// The demo's key relay: both clinics live in this page, so the protocol runs end to end over the real coordinator
// (commit, answer, reveal, wrap under the transcript, accept) and the page compares the two codes itself, where
// two people would read them to each other. A mismatch aborts the relay at the coordinator and stops the demo.
import { toBase64 } from '../../common/base64.ts';
import { unwrapSecretKeyInto, wrapSecretKey } from '../../custody/keywrap.ts';
import { answerRelay, holderTranscript, requesterTranscript, startRelay } from '../../custody/relay.ts';
import { contribution, holderAnswer, requesterReveal, seenRequest } from '../../custody/relay-wire.ts';
import { transcriptHash } from '../../custody/relay-transcript.ts';
import { sasMatches, shortAuthenticationString } from '../../custody/sas.ts';
import type { KeyRelayView } from '../../protocol/key-relay.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { type FederationKeys, relayOpener, relaySealer } from './federation-keys.ts';
import { loadOrCreateIdentity } from './keyvault.ts';

interface DemoClinic {
  name: string;
  clinicId: string;
  token: string;
}

/** Relays `keys` from `holder` to `requester` (sealed and opened in the HE worker); returns the requester's new keys and the code both sides showed. */
export async function relayInPage(federationId: string, holder: DemoClinic, requester: DemoClinic, keys: FederationKeys): Promise<{ received: FederationKeys; code: string }> {
  const holderIdentity = await loadOrCreateIdentity(holder.clinicId);
  const requesterIdentity = await loadOrCreateIdentity(requester.clinicId);
  const viewFor = async (clinic: DemoClinic, relayId: string): Promise<KeyRelayView> => {
    const view = (await coordinatorApi.keyRelays(clinic.token, federationId)).find((v) => v.relayId === relayId);
    if (!view) throw new Error(`the coordinator does not show ${clinic.name} the key relay ${relayId}`);
    return view;
  };
  const session = await startRelay(federationId, requester.clinicId, requesterIdentity.publicKeyRaw);
  const { relayId } = await coordinatorApi.startKeyRelay(requester.token, federationId, { commitment: toBase64(session.commitment) });
  const held = await answerRelay(seenRequest(federationId, await viewFor(holder, relayId)), holder.clinicId, holderIdentity.publicKeyRaw);
  await coordinatorApi.answerKeyRelay(holder.token, federationId, relayId, contribution(held.holderEphemeralKey, held.holderNonce));
  const atRequester = requesterTranscript(session, holderAnswer(await viewFor(requester, relayId)));
  await coordinatorApi.revealKeyRelay(requester.token, federationId, relayId, contribution(session.opening.requesterEphemeralKey, session.opening.requesterNonce));
  const atHolder = holderTranscript(held, requesterReveal(await viewFor(holder, relayId)));
  const holderCode = shortAuthenticationString(transcriptHash(atHolder));
  const requesterCode = shortAuthenticationString(transcriptHash(atRequester));
  if (!sasMatches(requesterCode, holderCode)) {
    await coordinatorApi.abortKeyRelay(holder.token, federationId, relayId, { reason: 'code-mismatch' });
    throw new Error(`the relay codes differ for ${requester.name} (${holderCode} at ${holder.name}, ${requesterCode} at ${requester.name}): the coordinator substituted keys; no key was released and the demo stops`);
  }
  const wrapped = await wrapSecretKey(relaySealer(keys), { identityPrivateKey: holderIdentity.privateKey, ephemeralPrivateKey: held.ephemeralPrivateKey }, atHolder);
  await coordinatorApi.deliverWrappedKey(holder.token, federationId, relayId, wrapped);
  const received = await unwrapSecretKeyInto(
    await coordinatorApi.wrappedKey(requester.token, federationId, relayId),
    { identityPrivateKey: requesterIdentity.privateKey, ephemeralPrivateKey: session.ephemeralPrivateKey },
    atRequester,
    relayOpener(`the keys ${requester.name} received`),
  );
  await coordinatorApi.acceptKeyRelay(requester.token, federationId, relayId);
  return { received, code: holderCode };
}
