// One SEALContext (+ encoder, evaluator) per preset per realm. Context creation costs 0.2-0.4 s at N=8192, so it is
// cached. A secret-key session (encryptor, decryptor, key generator) costs 7-14 ms, because a seeded symmetric
// encryptor still needs a public key in node-seal's constructor: a key slot (key-slots.ts) owns its session, and a
// caller that passes key bytes instead (Node: the simulator, tests) gets the session of the last bytes used here.
import { bytesEqual } from '../common/bytes-equal.ts';
import { wipe } from '../common/wipe.ts';
import { decodeEnvelope, encodeEnvelope } from '../protocol/envelope.ts';
import type { EnvelopeKind } from '../protocol/envelope.ts';
import { HeError, heTry } from './errors.ts';
import { PRESETS, presetHash } from './params.ts';
import type { CkksPreset, PresetId } from './params.ts';
import { loadSeal } from './seal.ts';
import type { Seal } from './seal.ts';
import { withScope } from './scope.ts';

type SealContext = InstanceType<Seal['SEALContext']>;
type CkksEncoder = InstanceType<Seal['CKKSEncoder']>;
type Evaluator = InstanceType<Seal['Evaluator']>;
type Modulus = InstanceType<Seal['Modulus']>;
export type Ciphertext = InstanceType<Seal['Ciphertext']>;
export type Plaintext = InstanceType<Seal['Plaintext']>;
export type SecretKey = InstanceType<Seal['SecretKey']>;
export type KeyGenerator = InstanceType<Seal['KeyGenerator']>;
export type Encryptor = InstanceType<Seal['Encryptor']>;
export type Decryptor = InstanceType<Seal['Decryptor']>;

/** Objects that SEAL can write with saveToArray. */
interface Saveable {
  saveToArray(mode: unknown): unknown;
}

/** Everything derived from one secret key; owned by a key slot or by the context's one-entry byte cache. */
export interface KeySession {
  readonly presetId: PresetId;
  readonly federationId: string;
  readonly secretKey: SecretKey;
  readonly keyGenerator: KeyGenerator;
  readonly encryptor: Encryptor;
  readonly decryptor: Decryptor;
}

/** A secret key as the HE functions take it: the secret-key envelope's bytes, or a session a key slot owns. */
export type SecretKeyRef = Uint8Array | KeySession;

const contexts = new Map<PresetId, Promise<HeContext>>();

export class HeContext {
  readonly seal: Seal;
  readonly preset: CkksPreset;
  readonly presetHash: Uint8Array;
  readonly context: SealContext;
  readonly encoder: CkksEncoder;
  readonly evaluator: Evaluator;
  readonly slotCount: number;
  /** Values of the data-level primes q0..q_{L-1}, in chain order; rescaling drops the last one first. */
  readonly dataPrimes: readonly bigint[];
  #session: { bytes: Uint8Array; session: KeySession } | undefined;

  private constructor(seal: Seal, preset: CkksPreset, hash: Uint8Array, context: SealContext, primes: bigint[]) {
    this.seal = seal;
    this.dataPrimes = primes.length > 1 ? primes.slice(0, -1) : primes;
    this.preset = preset;
    this.presetHash = hash;
    this.context = context;
    this.encoder = new seal.CKKSEncoder(context);
    this.evaluator = new seal.Evaluator(context);
    this.slotCount = this.encoder.slotCount();
  }

  /** The cached context for `presetId` in this realm (created on first use). */
  static create(presetId: PresetId, opts?: { wasmUrl?: string }): Promise<HeContext> {
    let pending = contexts.get(presetId);
    if (!pending) {
      pending = HeContext.#build(presetId, opts);
      contexts.set(presetId, pending);
      pending.catch(() => contexts.delete(presetId));
    }
    return pending;
  }

  static async #build(presetId: PresetId, opts?: { wasmUrl?: string }): Promise<HeContext> {
    const preset = PRESETS[presetId];
    if (!preset) throw new HeError('bad-argument', `unknown preset id '${String(presetId)}'`);
    const seal = await loadSeal(opts);
    const hash = await presetHash(preset);
    const [context, primes] = heTry(`creating the SEAL context for preset ${presetId}`, () =>
      withScope((scope) => {
        const parms = scope.track(new seal.EncryptionParameters(seal.SchemeType.ckks));
        parms.setPolyModulusDegree(preset.polyModulusDegree);
        const moduli = scope.track(
          seal.CoeffModulus.Create(preset.polyModulusDegree, Int32Array.from(preset.coeffModulusBits)),
        );
        parms.setCoeffModulus(moduli);
        const primes: bigint[] = [];
        for (let i = 0; i < moduli.size(); i++) primes.push(scope.track(moduli.get(i) as Modulus).value());
        return [new seal.SEALContext(parms, true, seal.SecLevelType.tc128), primes] as const;
      }),
    );
    if (!context.parametersSet()) {
      const why = context.toHuman();
      context.delete();
      throw new HeError('seal', `preset ${presetId} fails SEAL's 128-bit parameter check: ${why}`);
    }
    return new HeContext(seal, preset, hash, context, primes);
  }

  /** log2 of the modulus a fresh ciphertext lives under (the product of the data primes): the room for sums. */
  get freshModulusBits(): number {
    return this.dataPrimes.reduce((bits, p) => bits + Math.log2(Number(p)), 0);
  }

  get scale(): number {
    return 2 ** this.preset.scaleBits;
  }

  /** Wraps a SEAL object's zstd serialization in an envelope for this preset. */
  toEnvelope(kind: EnvelopeKind, federationId: string, obj: Saveable): Uint8Array {
    const payload = heTry(`serializing a ${kind}`, () => obj.saveToArray(this.seal.ComprModeType.zstd)) as Uint8Array;
    return encodeEnvelope({ kind, federationId, presetHash: this.presetHash, payload });
  }

  /** Checks an envelope against this preset (and federation, when given) and returns its payload. */
  openEnvelope(bytes: Uint8Array, kind: EnvelopeKind, federationId: string | undefined, what: string): Uint8Array {
    return heTry(`reading ${what}`, () =>
      decodeEnvelope(bytes, { kind, presetHash: this.presetHash, ...(federationId !== undefined ? { federationId } : {}) })
        .payload,
    );
  }

  /**
   * Loads a ciphertext envelope into a new Ciphertext (caller owns it). SEAL validates the data against the
   * context; on top of that it must be a fresh-level, size-2 ciphertext unless `anyLevel`.
   */
  loadCiphertext(bytes: Uint8Array, federationId: string | undefined, what: string, anyLevel = false): Ciphertext {
    const payload = this.openEnvelope(bytes, 'ciphertext', federationId, what);
    const ct = new this.seal.Ciphertext();
    try {
      heTry(`loading ${what}`, () => ct.loadFromArray(this.context, payload));
      if (ct.size() !== 2) throw new HeError('mismatch', `${what} has ${ct.size()} polynomials, expected 2`);
      if (!anyLevel) {
        const atFirst = withScope((scope) => {
          const first = scope.track(this.context.firstParmsId());
          const own = scope.track(ct.parmsId());
          return String(own.values()) === String(first.values());
        });
        if (!atFirst) throw new HeError('mismatch', `${what} is not at the preset's first level`);
      }
      return ct;
    } catch (e) {
      ct.delete();
      throw e;
    }
  }

  /**
   * The session of `key`: a slot's own session as it is, or for key bytes the cached session, re-derived only when
   * the bytes change. `federationId`, when given, must be the key's.
   */
  keySession(key: SecretKeyRef, federationId?: string): KeySession {
    if (!(key instanceof Uint8Array)) {
      if (key.presetId !== this.preset.id) throw new HeError('mismatch', `a ${key.presetId} secret key cannot be used with preset ${this.preset.id}`);
      checkFederation(key, federationId);
      return key;
    }
    const cached = this.#session;
    if (cached && bytesEqual(cached.bytes, key)) {
      checkFederation(cached.session, federationId);
      return cached.session;
    }
    const session = openKeySession(this, key, federationId);
    this.#dropSession();
    this.#session = { bytes: key.slice(), session };
    return session;
  }

  #dropSession(): void {
    const cached = this.#session;
    this.#session = undefined;
    if (!cached) return;
    closeKeySession(cached.session);
    wipe(cached.bytes);
  }

  dispose(): void {
    this.#dropSession();
    this.evaluator.delete();
    this.encoder.delete();
    this.context.delete();
    contexts.delete(this.preset.id);
  }
}

function checkFederation(session: KeySession, federationId: string | undefined): void {
  if (federationId !== undefined && session.federationId !== federationId) {
    throw new HeError('envelope:wrong-federation', `secret key belongs to federation '${session.federationId}', not '${federationId}'`);
  }
}

/** Loads a secret-key envelope of `ctx`'s preset into SEAL objects; the caller owns them (closeKeySession). */
export function openKeySession(ctx: HeContext, secretKeyEnvelope: Uint8Array, federationId?: string): KeySession {
  const envelope = heTry('reading the secret key', () =>
    decodeEnvelope(secretKeyEnvelope, { kind: 'secret-key', presetHash: ctx.presetHash, ...(federationId !== undefined ? { federationId } : {}) }),
  );
  const seal = ctx.seal;
  return heTry('loading the secret key', () =>
    withScope((scope) => {
      const secretKey = scope.track(new seal.SecretKey());
      secretKey.loadFromArray(ctx.context, envelope.payload);
      const keyGenerator = scope.track(new seal.KeyGenerator(ctx.context, secretKey));
      const publicKey = scope.track(keyGenerator.createPublicKey());
      const encryptor = scope.track(new seal.Encryptor(ctx.context, publicKey, secretKey));
      const decryptor = scope.track(new seal.Decryptor(ctx.context, secretKey));
      for (const o of [secretKey, keyGenerator, encryptor, decryptor]) scope.release(o);
      return { presetId: ctx.preset.id, federationId: envelope.federationId, secretKey, keyGenerator, encryptor, decryptor };
    }),
  );
}

/** Deletes a session's SEAL objects (SEAL frees the key's memory; the wasm heap itself never shrinks). */
export function closeKeySession(session: KeySession): void {
  for (const o of [session.decryptor, session.encryptor, session.keyGenerator, session.secretKey]) o.delete();
}
