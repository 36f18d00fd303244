// One clinic's side of a key relay (protocol in README.md). The requester commits to a fresh ephemeral key and nonce;
// the holder answers with its own only after it has seen that commitment; the requester then opens it. Each side
// builds the transcript from its own values plus the other's, so a coordinator that substitutes anything ends up
// with two different transcripts and two different short codes on the two screens.
import type { KeyRelayAbortReason } from '../protocol/vocabulary.ts';
import { ECDH_PARAMS } from './identity.ts';
import { commitmentOpens, RELAY_NONCE_BYTES, type RelayTranscript, relayCommitment, type RequesterOpening } from './relay-transcript.ts';

export class RelayAbort extends Error {
  readonly reason: KeyRelayAbortReason;
  constructor(reason: KeyRelayAbortReason, message: string) {
    super(message);
    this.name = 'RelayAbort';
    this.reason = reason;
  }
}

interface Ephemeral {
  privateKey: CryptoKey;
  publicKeyRaw: Uint8Array;
  nonce: Uint8Array;
}

/** A fresh ECDH key pair (private part non-extractable) and nonce for one relay; never stored. */
async function ephemeral(): Promise<Ephemeral> {
  const pair = await crypto.subtle.generateKey(ECDH_PARAMS, false, ['deriveBits']);
  return {
    privateKey: pair.privateKey,
    publicKeyRaw: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)),
    nonce: crypto.getRandomValues(new Uint8Array(RELAY_NONCE_BYTES)),
  };
}

export interface RequesterSession {
  opening: RequesterOpening;
  commitment: Uint8Array;
  ephemeralPrivateKey: CryptoKey;
}

export async function startRelay(federationId: string, requesterClinicId: string, requesterIdentityKey: Uint8Array): Promise<RequesterSession> {
  const own = await ephemeral();
  const opening: RequesterOpening = { federationId, requesterClinicId, requesterIdentityKey, requesterEphemeralKey: own.publicKeyRaw, requesterNonce: own.nonce };
  return { opening, commitment: relayCommitment(opening), ephemeralPrivateKey: own.privateKey };
}

/** What the holder saw of the request when it answered: the commitment it will later hold the reveal to. */
export interface SeenRequest {
  federationId: string;
  requesterClinicId: string;
  requesterIdentityKey: Uint8Array;
  commitment: Uint8Array;
}

export interface HolderSession {
  seen: SeenRequest;
  holderClinicId: string;
  holderIdentityKey: Uint8Array;
  holderEphemeralKey: Uint8Array;
  holderNonce: Uint8Array;
  ephemeralPrivateKey: CryptoKey;
}

export async function answerRelay(seen: SeenRequest, holderClinicId: string, holderIdentityKey: Uint8Array): Promise<HolderSession> {
  const own = await ephemeral();
  return { seen, holderClinicId, holderIdentityKey, holderEphemeralKey: own.publicKeyRaw, holderNonce: own.nonce, ephemeralPrivateKey: own.privateKey };
}

export interface HolderAnswer {
  holderClinicId: string;
  holderIdentityKey: Uint8Array;
  holderEphemeralKey: Uint8Array;
  holderNonce: Uint8Array;
}

export function requesterTranscript(session: RequesterSession, answer: HolderAnswer): RelayTranscript {
  return { ...session.opening, ...answer };
}

export interface RequesterReveal {
  requesterEphemeralKey: Uint8Array;
  requesterNonce: Uint8Array;
}

/** Throws RelayAbort('commitment-mismatch') when the revealed key and nonce are not what the requester committed to. */
export function holderTranscript(session: HolderSession, reveal: RequesterReveal): RelayTranscript {
  const opening: RequesterOpening = {
    federationId: session.seen.federationId,
    requesterClinicId: session.seen.requesterClinicId,
    requesterIdentityKey: session.seen.requesterIdentityKey,
    ...reveal,
  };
  if (!commitmentOpens(session.seen.commitment, opening)) {
    throw new RelayAbort('commitment-mismatch', 'the revealed requester key does not match the commitment this clinic answered: the relay was tampered with');
  }
  return {
    ...opening,
    holderClinicId: session.holderClinicId,
    holderIdentityKey: session.holderIdentityKey,
    holderEphemeralKey: session.holderEphemeralKey,
    holderNonce: session.holderNonce,
  };
}
