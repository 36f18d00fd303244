// Secret keys by handle. The HE realm (the browser's module worker, or a Node worker thread) keeps every secret-key
// envelope in a slot and hands out a handle; callers on the main thread hold only the handle and metadata. Key bytes
// enter a slot once: created here, opened here from a key file or from AES-GCM under a caller's CryptoKey (the key
// vault, the key relay), or given up by a caller that held them (loadKey: the caller's copy is wiped). They leave a
// slot only encrypted. Dropping a slot zero-fills its envelope and its marker secret and deletes its SEAL objects.
import { toHex } from '../common/hex.ts';
import { sha256 } from '../common/sha256.ts';
import { wipe } from '../common/wipe.ts';
import { BundleError, decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { decodeEnvelope, ENVELOPE_MAGIC } from '../protocol/envelope.ts';
import { closeKeySession, type HeContext, type KeySession, openKeySession } from './context.ts';
import { HeError, heTry } from './errors.ts';
import { markerSecret } from './inclusion-markers.ts';
import { PRESETS, presetHash, type PresetId } from './params.ts';

/** Names a slot in one HE realm; meaningless anywhere else (a restarted worker knows none). */
export type KeyHandle = string & { readonly __keyHandle: true };

/** What a caller may know about a slot's key. */
export interface KeyInfo {
  handle: KeyHandle;
  presetId: PresetId;
  federationId: string;
  /** 64 bits of SHA-256 over a domain tag and the key envelope, as four hex groups: which key, not the key. */
  fingerprint: string;
}

interface Slot {
  info: KeyInfo;
  envelope: Uint8Array;
  session?: KeySession;
  markerSecret?: Uint8Array;
}

const FINGERPRINT_TAG = new TextEncoder().encode('cipherpath secret-key fingerprint v1\0');
const ENVELOPE_MAGIC_BYTES = new TextEncoder().encode(ENVELOPE_MAGIC);

let presetsByHash: Promise<Map<string, PresetId>> | undefined;
const presetIdsByHash = () =>
  (presetsByHash ??= Promise.all((Object.keys(PRESETS) as PresetId[]).map(async (id) => [toHex(await presetHash(PRESETS[id])), id] as const)).then((pairs) => new Map(pairs)));

function fingerprint(envelope: Uint8Array): string {
  const tagged = new Uint8Array(FINGERPRINT_TAG.length + envelope.length);
  tagged.set(FINGERPRINT_TAG);
  tagged.set(envelope, FINGERPRINT_TAG.length);
  const hex = toHex(sha256(tagged).subarray(0, 8));
  wipe(tagged);
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

const startsWithEnvelopeMagic = (bytes: Uint8Array) => ENVELOPE_MAGIC_BYTES.every((b, i) => bytes[i] === b);

export class KeySlots {
  readonly #slots = new Map<KeyHandle, Slot>();
  readonly #context: (presetId: PresetId) => Promise<HeContext>;

  constructor(context: (presetId: PresetId) => Promise<HeContext>) {
    this.#context = context;
  }

  /** Keys held now. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * Takes `envelope` as a slot's own (no copy: whoever passes it gives it up; it is zero-filled when the slot is
   * dropped, or at once when it is refused). It must be a secret-key envelope of a known preset.
   */
  async adopt(envelope: Uint8Array): Promise<KeyInfo> {
    let presetId: PresetId | undefined;
    let federationId: string;
    try {
      const header = heTry('reading a secret key', () => decodeEnvelope(envelope, { kind: 'secret-key' }));
      federationId = header.federationId;
      presetId = (await presetIdsByHash()).get(toHex(header.presetHash));
      if (!presetId) throw new HeError('envelope:wrong-preset', 'the secret key was made for CKKS parameters this version does not know; update cipherpath');
    } catch (e) {
      wipe(envelope);
      throw e;
    }
    const info: KeyInfo = { handle: crypto.randomUUID() as KeyHandle, presetId, federationId, fingerprint: fingerprint(envelope) };
    this.#slots.set(info.handle, { info, envelope });
    return info;
  }

  #slot(handle: KeyHandle): Slot {
    const slot = this.#slots.get(handle);
    if (!slot) throw new HeError('unknown-key', `no secret key is loaded as '${String(handle)}': it was dropped, or the HE worker restarted (open the key from the key vault again)`);
    return slot;
  }

  info(handle: KeyHandle): KeyInfo {
    return this.#slot(handle).info;
  }

  /** The slot's context and SEAL session (made on first use, 7-14 ms). */
  async session(handle: KeyHandle): Promise<{ ctx: HeContext; session: KeySession }> {
    const ctx = await this.#context(this.#slot(handle).info.presetId);
    const slot = this.#slot(handle); // dropped while the context was being made?
    slot.session ??= openKeySession(ctx, slot.envelope);
    return { ctx, session: slot.session };
  }

  /** The slot's inclusion-marker secret (src/he/inclusion-markers.ts), kept until the slot is dropped. */
  markerSecret(handle: KeyHandle): { secret: Uint8Array; federationId: string } {
    const slot = this.#slot(handle);
    slot.markerSecret ??= markerSecret(slot.envelope, slot.info.federationId);
    return { secret: slot.markerSecret, federationId: slot.info.federationId };
  }

  /**
   * AES-GCM of the keys under a caller's CryptoKey: one handle's envelope as it is (the key vault), several as a
   * bundle of envelopes (the key relay). The plaintext never leaves this realm.
   */
  async seal(handles: readonly KeyHandle[], aesKey: CryptoKey, iv: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
    if (handles.length === 0) throw new HeError('bad-argument', 'sealing needs at least one key');
    const envelopes = handles.map((h) => this.#slot(h).envelope);
    const plain = envelopes.length === 1 ? (envelopes[0] as Uint8Array) : encodeBundle(envelopes);
    try {
      return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: additionalData as BufferSource }, aesKey, plain as BufferSource));
    } finally {
      if (envelopes.length > 1) wipe(plain);
    }
  }

  /**
   * Opens what seal() made into new slots: one key, or one per part of a bundle. Resolves null when the AES-GCM tag
   * does not verify (another key, IV or associated data, or altered bytes).
   */
  async open(aesKey: CryptoKey, iv: Uint8Array, sealed: Uint8Array, additionalData: Uint8Array): Promise<KeyInfo[] | null> {
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: additionalData as BufferSource }, aesKey, sealed as BufferSource));
    } catch (e) {
      if (e instanceof DOMException && e.name === 'OperationError') return null;
      throw e;
    }
    if (startsWithEnvelopeMagic(plain)) return [await this.adopt(plain)];
    try {
      let parts: Uint8Array[];
      try {
        parts = decodeBundle(plain);
      } catch (e) {
        if (e instanceof BundleError) throw new HeError('bad-argument', `not a cipherpath key bundle (${e.message})`, { cause: e });
        throw e;
      }
      const opened: KeyInfo[] = [];
      try {
        for (const part of parts) opened.push(await this.adopt(part.slice()));
      } catch (e) {
        for (const info of opened) this.drop(info.handle);
        throw e;
      }
      return opened;
    } finally {
      wipe(plain);
    }
  }

  /** Exposes a slot's envelope to this realm's own code (key files); never returned to a caller. */
  envelope(handle: KeyHandle): Uint8Array {
    return this.#slot(handle).envelope;
  }

  /** Zero-fills and forgets a slot; false if no such slot. */
  drop(handle: KeyHandle): boolean {
    const slot = this.#slots.get(handle);
    if (!slot) return false;
    this.#slots.delete(handle);
    if (slot.session) closeKeySession(slot.session);
    wipe(slot.envelope, slot.markerSecret);
    return true;
  }

  dropAll(): number {
    const handles = [...this.#slots.keys()];
    for (const h of handles) this.drop(h);
    return handles.length;
  }
}
