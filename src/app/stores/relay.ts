// The key relay as the people at both clinics see it (protocol and threat model: src/custody/README.md). The
// requester commits, a holder answers, the requester reveals; then both screens show the same 8-digit code, and only
// after the holder's person confirmed it (typed or "codes match") is the key wrapped, and only after the requester's
// person confirmed it too is the wrap opened. A mismatch aborts the relay at the coordinator, where it is audited.
// The relay's ephemeral secrets live in this page's memory only: a reload loses them and the relay starts again.
import { create } from 'zustand';
import { KeyWrapError, type SealUnder, unwrapSecretKeyInto, wrapSecretKey } from '../../custody/keywrap.ts';
import { checkPin, identityFingerprint, pinIdentity } from '../../custody/pinning.ts';
import { answerRelay, type HolderSession, holderTranscript, RelayAbort, requesterTranscript, type RequesterSession, startRelay } from '../../custody/relay.ts';
import { contribution, holderAnswer, requesterReveal, seenRequest } from '../../custody/relay-wire.ts';
import { type RelayTranscript, transcriptHash } from '../../custody/relay-transcript.ts';
import { sasMatches, shortAuthenticationString } from '../../custody/sas.ts';
import { toBase64 } from '../../common/base64.ts';
import type { KeyRelayView } from '../../protocol/key-relay.ts';
import type { KeyRelayAbortReason } from '../../protocol/vocabulary.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { type FederationKeys, relayOpener } from '../lib/federation-keys.ts';
import { identityPins } from '../lib/identity-pins.ts';
import { loadOrCreateIdentity } from '../lib/keyvault.ts';

export type RelayPhase =
  /** requester: committed, no holder has answered yet */
  | 'waiting-for-holder'
  /** holder: a request this clinic may answer */
  | 'incoming'
  /** holder: answered; the requester has not opened its commitment yet */
  | 'waiting-for-requester'
  /** both: the code is on screen and the person must confirm or reject it */
  | 'compare'
  /** confirmed here; waiting for the other side (the holder's wrap, or the requester's acceptance) */
  | 'confirmed'
  /** this page no longer has the relay's ephemeral secret (it was reloaded): start again */
  | 'lost'
  | 'aborted';

export interface RelayEntry {
  relayId: string;
  role: 'requester' | 'holder';
  peerName: string;
  phase: RelayPhase;
  code: string | null;
  /** Set when the coordinator shows another identity key for the peer than the one pinned here. */
  identityWarning: string | null;
  abortReason: string | null;
}

/** What a relay needs of this clinic's federation key; the component passes it in from the key store. */
export interface RelayKeys {
  /** Seals the key bundle for `requesterName` in the HE worker, or null when there is none to release (its owner says why). */
  sealer(requesterName: string): SealUnder | null;
  /** Keeps keys received through a confirmed relay (opened into the HE worker). */
  adopt(federationId: string, keys: FederationKeys): Promise<void>;
}

export interface RelayClinic {
  token: string;
  clinicId: string;
  federationId: string;
  keys: RelayKeys;
}

interface RelayState {
  entries: RelayEntry[];
  busy: string | null;
  error: string | null;
  request(clinic: RelayClinic): Promise<void>;
  poll(clinic: RelayClinic, signal?: AbortSignal): Promise<void>;
  answer(clinic: RelayClinic, relayId: string): Promise<void>;
  /** `typed` is the code the other person read out; empty means the person pressed "codes match" after comparing. */
  confirm(clinic: RelayClinic, relayId: string, typed: string): Promise<void>;
  reject(clinic: RelayClinic, relayId: string, reason: KeyRelayAbortReason): Promise<void>;
}

interface Live {
  requester?: RequesterSession;
  holder?: HolderSession;
  transcript?: RelayTranscript;
  code?: string;
  identityWarning?: string | null;
  confirmed?: boolean;
  working?: boolean;
  abortReason?: string;
}

/** Per-relay secrets and local decisions; deliberately outside the store so they are never rendered or persisted. */
const live = new Map<string, Live>();
let lastViews: KeyRelayView[] = [];

const ABORT_WORDS: Record<string, string> = {
  'code-mismatch': 'the two codes did not match',
  'commitment-mismatch': 'the requester’s revealed key did not match what it committed to (the relay was tampered with)',
  'transcript-mismatch': 'the wrapped key did not open under the confirmed code (it was substituted)',
  cancelled: 'the request was replaced by a newer one',
};
export const abortText = (reason: string | null) => `${ABORT_WORDS[reason ?? ''] ?? reason ?? 'aborted'}. No key was released.`;

async function identityCheck(clinicId: string, name: string, identityKey: Uint8Array): Promise<string | null> {
  const pin = await checkPin(identityPins, clinicId, identityKey);
  if (pin.status === 'first-use') await pinIdentity(identityPins, clinicId, name, identityKey);
  if (pin.status !== 'changed') return null;
  return `The coordinator shows ${name} with another identity key (${identityFingerprint(identityKey)}) than the one pinned here on ${pin.pinned.pinnedAt.slice(0, 10)} (${identityFingerprint(pin.pinned.identityKey)}). ${name} may have reinstalled, or the coordinator substituted it: compare the code with particular care.`;
}

function entryOf(view: KeyRelayView, me: string): RelayEntry | null {
  const state = live.get(view.relayId);
  const role = view.requesterId === me ? 'requester' : 'holder';
  const base = { relayId: view.relayId, role, code: state?.code ?? null, identityWarning: state?.identityWarning ?? null, abortReason: state?.abortReason ?? view.abortReason } as const;
  const entry = (phase: RelayPhase, peerName: string): RelayEntry => ({ ...base, phase, peerName });
  if (role === 'requester') {
    const holderName = view.holderName ?? 'a key holder';
    if (view.status === 'accepted') return null;
    if (view.status === 'aborted') return entry('aborted', holderName);
    if (!state?.requester) return entry('lost', holderName);
    if (!state.transcript) return entry('waiting-for-holder', holderName);
    return entry(state.confirmed ? 'confirmed' : 'compare', holderName);
  }
  const answeredByMe = view.holderId === me;
  if (view.status === 'committed') return entry(state?.holder ? 'waiting-for-requester' : 'incoming', view.requesterName);
  if (!answeredByMe || view.status === 'accepted') return null;
  if (view.status === 'aborted') return state ? entry('aborted', view.requesterName) : null;
  if (!state?.holder) return entry('lost', view.requesterName);
  if (view.status === 'wrapped' || state.confirmed) return entry('confirmed', view.requesterName);
  return entry(state.transcript ? 'compare' : 'waiting-for-requester', view.requesterName);
}

export const useRelay = create<RelayState>()((set, get) => {
  const fail = (what: string, e: unknown) => set({ busy: null, error: `${what}: ${(e as Error).message}` });
  const render = (me: string) => set({ entries: lastViews.map((v) => entryOf(v, me)).filter((e): e is RelayEntry => e !== null) });

  /** Moves one relay forward where this side's next step needs no person; each relay is worked on once at a time. */
  async function advance(clinic: RelayClinic, view: KeyRelayView, state: Live): Promise<void> {
    if (state.requester && !state.transcript && view.status === 'responded') {
      const transcript = requesterTranscript(state.requester, holderAnswer(view));
      const warning = await identityCheck(transcript.holderClinicId, view.holderName ?? 'the key holder', transcript.holderIdentityKey);
      const { requesterEphemeralKey, requesterNonce } = state.requester.opening;
      await coordinatorApi.revealKeyRelay(clinic.token, clinic.federationId, view.relayId, contribution(requesterEphemeralKey, requesterNonce));
      Object.assign(state, { transcript, code: shortAuthenticationString(transcriptHash(transcript)), identityWarning: warning });
    } else if (state.holder && !state.transcript && view.status === 'revealed') {
      try {
        const transcript = holderTranscript(state.holder, requesterReveal(view));
        const warning = await identityCheck(view.requesterId, view.requesterName, transcript.requesterIdentityKey);
        Object.assign(state, { transcript, code: shortAuthenticationString(transcriptHash(transcript)), identityWarning: warning });
      } catch (e) {
        if (!(e instanceof RelayAbort)) throw e;
        await get().reject(clinic, view.relayId, e.reason);
      }
    } else if (state.requester && state.transcript && state.confirmed && view.status === 'wrapped') {
      await receive(clinic, view, state);
    }
  }

  async function receive(clinic: RelayClinic, view: KeyRelayView, state: Live): Promise<void> {
    const { requester, transcript } = state as Required<Pick<Live, 'requester' | 'transcript'>>;
    set({ busy: 'Receiving the federation key…' });
    const identity = await loadOrCreateIdentity(clinic.clinicId);
    const wrapped = await coordinatorApi.wrappedKey(clinic.token, clinic.federationId, view.relayId);
    let keys: FederationKeys;
    try {
      const requesterKeys = { identityPrivateKey: identity.privateKey, ephemeralPrivateKey: requester.ephemeralPrivateKey };
      keys = await unwrapSecretKeyInto(wrapped, requesterKeys, transcript, relayOpener('the key received from the key holder'));
    } catch (e) {
      if (!(e instanceof KeyWrapError)) throw e;
      await get().reject(clinic, view.relayId, 'transcript-mismatch');
      return;
    }
    await clinic.keys.adopt(clinic.federationId, keys);
    await coordinatorApi.acceptKeyRelay(clinic.token, clinic.federationId, view.relayId);
    await pinIdentity(identityPins, transcript.holderClinicId, view.holderName ?? transcript.holderClinicId, transcript.holderIdentityKey);
    live.delete(view.relayId);
    set({ busy: null });
  }

  return {
    entries: [],
    busy: null,
    error: null,
    async request(clinic) {
      set({ busy: 'Asking the key holders…', error: null });
      try {
        const identity = await loadOrCreateIdentity(clinic.clinicId);
        const session = await startRelay(clinic.federationId, clinic.clinicId, identity.publicKeyRaw);
        const { relayId } = await coordinatorApi.startKeyRelay(clinic.token, clinic.federationId, { commitment: toBase64(session.commitment) });
        live.set(relayId, { requester: session });
        set({ busy: null });
        await get().poll(clinic);
      } catch (e) {
        fail('Could not request the key', e);
      }
    },
    async poll(clinic, signal) {
      try {
        lastViews = await coordinatorApi.keyRelays(clinic.token, clinic.federationId, signal);
        // Only the requester's newest relay matters to it; older ones were superseded.
        const newestOwn = lastViews.find((v) => v.requesterId === clinic.clinicId);
        lastViews = lastViews.filter((v) => v.requesterId !== clinic.clinicId || v === newestOwn);
        for (const view of lastViews) {
          const state = live.get(view.relayId);
          if (!state || state.working) continue;
          state.working = true;
          try {
            await advance(clinic, view, state);
          } finally {
            state.working = false;
          }
        }
        render(clinic.clinicId);
      } catch (e) {
        if (!signal?.aborted) fail('Could not read key relays', e);
      }
    },
    async answer(clinic, relayId) {
      const view = lastViews.find((v) => v.relayId === relayId);
      if (!view || live.has(relayId)) return;
      set({ busy: `Answering ${view.requesterName}…`, error: null });
      try {
        const identity = await loadOrCreateIdentity(clinic.clinicId);
        const session = await answerRelay(seenRequest(clinic.federationId, view), clinic.clinicId, identity.publicKeyRaw);
        await coordinatorApi.answerKeyRelay(clinic.token, clinic.federationId, relayId, contribution(session.holderEphemeralKey, session.holderNonce));
        live.set(relayId, { holder: session });
        set({ busy: null });
        await get().poll(clinic);
      } catch (e) {
        fail(`Could not answer ${view.requesterName}`, e);
      }
    },
    async confirm(clinic, relayId, typed) {
      const state = live.get(relayId);
      const view = lastViews.find((v) => v.relayId === relayId);
      if (!state?.transcript || !state.code || !view) return;
      if (typed.trim() !== '' && !sasMatches(typed, state.code)) {
        await get().reject(clinic, relayId, 'code-mismatch');
        return;
      }
      set({ error: null });
      try {
        if (state.holder) {
          const seal = clinic.keys.sealer(view.requesterName);
          if (!seal) return;
          set({ busy: `Releasing the key to ${view.requesterName}…` });
          const identity = await loadOrCreateIdentity(clinic.clinicId);
          const wrapped = await wrapSecretKey(seal, { identityPrivateKey: identity.privateKey, ephemeralPrivateKey: state.holder.ephemeralPrivateKey }, state.transcript);
          await coordinatorApi.deliverWrappedKey(clinic.token, clinic.federationId, relayId, wrapped);
          await pinIdentity(identityPins, view.requesterId, view.requesterName, state.transcript.requesterIdentityKey);
          state.confirmed = true;
          set({ busy: null });
        } else {
          state.confirmed = true;
        }
        await get().poll(clinic);
      } catch (e) {
        fail('Could not complete the relay', e);
      }
    },
    async reject(clinic, relayId, reason) {
      // The secrets are dropped at once: nothing can be wrapped or opened for this relay any more.
      live.set(relayId, { abortReason: reason });
      try {
        await coordinatorApi.abortKeyRelay(clinic.token, clinic.federationId, relayId, { reason });
      } catch (e) {
        fail('The relay was stopped here, but the coordinator could not be told', e);
      }
      await get().poll(clinic);
    },
  };
});
