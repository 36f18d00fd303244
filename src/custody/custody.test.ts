import { describe, expect, it } from 'vitest';
import { createClinicIdentity } from './identity.ts';
import { KeyWrapError, type OpenUnder, type SealUnder, unwrapSecretKey, unwrapSecretKeyInto, wrapSecretKey } from './keywrap.ts';
import { checkPin, identityFingerprint, type PinnedIdentity, type PinStore, pinIdentity } from './pinning.ts';
import { answerRelay, holderTranscript, RelayAbort, requesterTranscript, startRelay } from './relay.ts';
import { commitmentOpens, type RelayTranscript, transcriptHash } from './relay-transcript.ts';
import { sasMatches, shortAuthenticationString } from './sas.ts';

const secret = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251);

async function honestRelay() {
  const holder = await createClinicIdentity();
  const requester = await createClinicIdentity();
  const session = await startRelay('fed-a', 'cl-new', requester.publicKeyRaw);
  const answered = await answerRelay({ federationId: 'fed-a', requesterClinicId: 'cl-new', requesterIdentityKey: requester.publicKeyRaw, commitment: session.commitment }, 'cl-holder', holder.publicKeyRaw);
  const atRequester = requesterTranscript(session, answered);
  const atHolder = holderTranscript(answered, session.opening);
  return { holder, requester, session, answered, atRequester, atHolder };
}

describe('key relay', () => {
  it('an honest relay gives both sides the same 8-digit code, and only the confirmed requester unwraps', async () => {
    const { holder, requester, session, answered, atRequester, atHolder } = await honestRelay();
    const code = shortAuthenticationString(transcriptHash(atHolder));
    expect(code).toMatch(/^\d{4} \d{4}$/);
    expect(shortAuthenticationString(transcriptHash(atRequester))).toBe(code);
    const wrapped = await wrapSecretKey(secret, { identityPrivateKey: holder.privateKey, ephemeralPrivateKey: answered.ephemeralPrivateKey }, atHolder);
    const own = { identityPrivateKey: requester.privateKey, ephemeralPrivateKey: session.ephemeralPrivateKey };
    expect(Array.from(await unwrapSecretKey(wrapped, own, atRequester))).toEqual(Array.from(secret));
    expect(Buffer.from(wrapped).includes(Buffer.from(secret.subarray(0, 64)))).toBe(false);
    // Bound to the transcript: another federation id, another nonce, or a tampered byte and it does not open.
    await expect(unwrapSecretKey(wrapped, own, { ...atRequester, federationId: 'fed-b' })).rejects.toThrow(KeyWrapError);
    await expect(unwrapSecretKey(wrapped, own, { ...atRequester, holderNonce: new Uint8Array(32) })).rejects.toThrow(/does not open/);
    const tampered = wrapped.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    await expect(unwrapSecretKey(tampered, own, atRequester)).rejects.toThrow(/does not open/);
    await expect(unwrapSecretKey(wrapped.subarray(0, 20), own, atRequester)).rejects.toThrow(/too short/);
    const v1 = wrapped.slice();
    v1[4] = 1;
    await expect(unwrapSecretKey(v1, own, atRequester)).rejects.toThrow(/version 1 is not supported/);
    // The identity key takes part: the ephemeral key alone (an attacker that stole it) does not open the wrap.
    const stranger = await createClinicIdentity();
    await expect(unwrapSecretKey(wrapped, { ...own, identityPrivateKey: stranger.privateKey }, atRequester)).rejects.toThrow(/does not open/);
  });

  it('the AES-GCM step runs where the key lives (a sealer and an opener handed the relay key, as the HE worker is) and the wrap is the same', async () => {
    const { holder, requester, session, answered, atRequester, atHolder } = await honestRelay();
    const holderKeys = { identityPrivateKey: holder.privateKey, ephemeralPrivateKey: answered.ephemeralPrivateKey };
    const own = { identityPrivateKey: requester.privateKey, ephemeralPrivateKey: session.ephemeralPrivateKey };
    // The other realm gets a structured clone of the non-extractable key, as postMessage gives a worker.
    const keptThere: Uint8Array[] = [];
    const sealThere: SealUnder = async (key, iv, aad) =>
      new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource }, structuredClone(key), secret));
    const openThere: OpenUnder<number> = async (key, iv, aad, sealed) => {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource }, structuredClone(key), sealed as BufferSource).catch(() => null);
      if (!plain) return null;
      return keptThere.push(new Uint8Array(plain));
    };
    const wrapped = await wrapSecretKey(sealThere, holderKeys, atHolder);
    expect(Array.from(await unwrapSecretKey(wrapped, own, atRequester))).toEqual(Array.from(secret));
    const fromBytes = await wrapSecretKey(secret, holderKeys, atHolder);
    expect(await unwrapSecretKeyInto(fromBytes, own, atRequester, openThere)).toBe(1);
    expect(Array.from(keptThere[0] ?? [])).toEqual(Array.from(secret));
    await expect(unwrapSecretKeyInto(wrapped, own, { ...atRequester, federationId: 'fed-b' }, openThere)).rejects.toThrow(KeyWrapError);
    expect(keptThere).toHaveLength(1);
  });

  it('every transcript field changes the code', async () => {
    const { atHolder } = await honestRelay();
    const code = shortAuthenticationString(transcriptHash(atHolder));
    const other = (await createClinicIdentity()).publicKeyRaw;
    const variants: Partial<RelayTranscript>[] = [
      { federationId: 'fed-b' },
      { requesterClinicId: 'cl-other' },
      { holderClinicId: 'cl-other' },
      { requesterIdentityKey: other },
      { holderIdentityKey: other },
      { requesterEphemeralKey: other },
      { holderEphemeralKey: other },
      { requesterNonce: crypto.getRandomValues(new Uint8Array(32)) },
      { holderNonce: crypto.getRandomValues(new Uint8Array(32)) },
    ];
    for (const v of variants) expect(shortAuthenticationString(transcriptHash({ ...atHolder, ...v }))).not.toBe(code);
  });

  it('the holder refuses a reveal that does not open the commitment it answered', async () => {
    const { session, answered } = await honestRelay();
    const forged = await createClinicIdentity();
    expect(commitmentOpens(session.commitment, session.opening)).toBe(true);
    expect(() => holderTranscript(answered, { ...session.opening, requesterEphemeralKey: forged.publicKeyRaw })).toThrow(RelayAbort);
    expect(() => holderTranscript(answered, { ...session.opening, requesterNonce: new Uint8Array(32) })).toThrow(/does not match the commitment/);
    expect(() => holderTranscript(answered, { ...session.opening, requesterNonce: new Uint8Array(3) })).toThrow(/commitment/);
  });

  it('people compare typed codes loosely about spacing and strictly about digits', () => {
    expect(sasMatches('1234 5678', '1234 5678')).toBe(true);
    expect(sasMatches(' 12345678 ', '1234 5678')).toBe(true);
    expect(sasMatches('1234-5678', '1234 5678')).toBe(true);
    expect(sasMatches('1234 5679', '1234 5678')).toBe(false);
    expect(sasMatches('', '1234 5678')).toBe(false);
    expect(sasMatches('1234 567', '1234 5678')).toBe(false);
  });

  it('pins an identity on first use and flags a later substitution', async () => {
    const pins = new Map<string, PinnedIdentity>();
    const store: PinStore = { get: async (id) => pins.get(id), put: async (p) => void pins.set(p.clinicId, p) };
    const first = await createClinicIdentity();
    const substitute = await createClinicIdentity();
    expect(await checkPin(store, 'cl-a', first.publicKeyRaw)).toEqual({ status: 'first-use' });
    await pinIdentity(store, 'cl-a', 'Clinic A', first.publicKeyRaw);
    expect(await checkPin(store, 'cl-a', first.publicKeyRaw)).toEqual({ status: 'pinned' });
    const changed = await checkPin(store, 'cl-a', substitute.publicKeyRaw);
    expect(changed.status).toBe('changed');
    expect(changed.status === 'changed' && identityFingerprint(changed.pinned.identityKey)).toBe(identityFingerprint(first.publicKeyRaw));
    expect(identityFingerprint(first.publicKeyRaw)).toMatch(/^([0-9a-f]{4} ){9}[0-9a-f]{4}$/);
    expect(identityFingerprint(first.publicKeyRaw)).not.toBe(identityFingerprint(substitute.publicKeyRaw));
  });

  it('rejects a public key that is not a P-256 point', async () => {
    const { holder, answered, atHolder } = await honestRelay();
    const bogus = new Uint8Array(65);
    bogus[0] = 4;
    const keys = { identityPrivateKey: holder.privateKey, ephemeralPrivateKey: answered.ephemeralPrivateKey };
    await expect(wrapSecretKey(secret, keys, { ...atHolder, requesterEphemeralKey: bogus })).rejects.toThrow(/not a valid P-256 point/);
    await expect(wrapSecretKey(secret, keys, { ...atHolder, requesterIdentityKey: new Uint8Array(33) })).rejects.toThrow(/65 bytes/);
  });
});
