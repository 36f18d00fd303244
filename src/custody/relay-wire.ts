// Reading the coordinator's relay views into the byte fields the protocol works on. The views are the coordinator's
// word and may be forged: these helpers only check shapes; authenticity comes from the commitment and the code.
import { fromBase64, toBase64 } from '../common/base64.ts';
import type { KeyRelayContribution, KeyRelayView } from '../protocol/key-relay.ts';
import type { HolderAnswer, RequesterReveal, SeenRequest } from './relay.ts';

const field = (view: KeyRelayView, name: keyof KeyRelayView): Uint8Array => {
  const value = view[name];
  if (typeof value !== 'string') throw new Error(`relay ${view.relayId} has no ${name} yet`);
  return fromBase64(value);
};

export function seenRequest(federationId: string, view: KeyRelayView): SeenRequest {
  return { federationId, requesterClinicId: view.requesterId, requesterIdentityKey: field(view, 'requesterIdentityKey'), commitment: field(view, 'commitment') };
}

export function holderAnswer(view: KeyRelayView): HolderAnswer {
  if (!view.holderId) throw new Error(`relay ${view.relayId} has not been answered by a key holder yet`);
  return { holderClinicId: view.holderId, holderIdentityKey: field(view, 'holderIdentityKey'), holderEphemeralKey: field(view, 'holderEphemeralKey'), holderNonce: field(view, 'holderNonce') };
}

export function requesterReveal(view: KeyRelayView): RequesterReveal {
  return { requesterEphemeralKey: field(view, 'requesterEphemeralKey'), requesterNonce: field(view, 'requesterNonce') };
}

export const contribution = (ephemeralKey: Uint8Array, nonce: Uint8Array): KeyRelayContribution => ({ ephemeralKey: toBase64(ephemeralKey), nonce: toBase64(nonce) });
