// The HE worker's methods, declared once: a handler table served by the browser module worker (worker.ts) and the
// coordinator's worker threads (node-worker.ts) over src/rpc; HeWorkerClient and HeNodePool derive their call types
// from it. Registered heads and evaluation keys live in per-realm registries so the coordinator loads 7 MB of Galois
// keys once, not per call. Secret keys live in this table's key slots (key-slots.ts): every method that needs one
// takes its handle, and no method returns a secret key's bytes. Errors cross as {code, message} (toHeError) and come
// back as HeError.
import { aggregationScaleBits, decryptWeightedMean, encryptWeightedContribution, weightedCiphertextCount } from './aggregate.ts';
import type { AggregationRound } from './aggregate.ts';
import { HeContext } from './context.ts';
import { HeError, toHeError } from './errors.ts';
import { markers } from './inclusion-markers.ts';
import { type KeyHandle, KeySlots } from './key-slots.ts';
import type { HeErrorCode } from './errors.ts';
import type { LinearHead } from './head.ts';
import {
  InferenceKeys,
  PreparedHead,
  decryptLogits,
  encryptHeadForInference,
  encryptInferenceInput,
  evaluateLinear,
  generateInferenceKeys,
  inferenceLayout,
} from './inference.ts';
import type { InferenceLayout, InferenceMode } from './inference.ts';
import { openKeyFile, sealKeyFile } from './keyfile.ts';
import type { PresetId } from './params.ts';
import { withScope } from './scope.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey, sumCiphertexts } from './tokens.ts';
import type { RpcContext, RpcWireError } from '../rpc/rpc.ts';
import type { ArgsOf, HandlerTable } from '../rpc/rpc.ts';

/** A head as the coordinator may hold it: in clear, or encrypted by a key holder (encryptHeadForInference). */
export type HeadSource =
  | { encrypted: false; head: LinearHead }
  | { encrypted: true; weights: Uint8Array[][]; biases: Uint8Array[] };

export interface HandlerOptions {
  wasmUrl?: string;
}

interface Registered<T> {
  presetId: PresetId;
  federationId: string;
  object: T;
}

const heads = new Map<string, Registered<PreparedHead>>();
const keySets = new Map<string, Registered<InferenceKeys>>();

function release(id: string): void {
  heads.get(id)?.object.dispose();
  keySets.get(id)?.object.dispose();
  heads.delete(id);
  keySets.delete(id);
}

function lookup<T>(registry: Map<string, Registered<T>>, what: string, id: string, presetId: PresetId, federationId: string): T {
  const entry = registry.get(id);
  if (!entry) throw new HeError('bad-argument', `no ${what} registered as '${id}'`);
  if (entry.presetId !== presetId || entry.federationId !== federationId) {
    throw new HeError('mismatch', `${what} '${id}' was registered for ${entry.federationId}/${entry.presetId}`);
  }
  return entry.object;
}

/** AES-GCM parameters of a caller's non-extractable key (key vault, key relay): the plaintext stays in the worker. */
interface AesGcm {
  aesKey: CryptoKey;
  iv: Uint8Array;
  additionalData: Uint8Array;
}

export function heHandlers(opts: HandlerOptions = {}) {
  const context = (presetId: PresetId) => HeContext.create(presetId, opts.wasmUrl ? { wasmUrl: opts.wasmUrl } : undefined);
  const slots = new KeySlots(context);
  return {
    /** A new secret key, made and kept in a slot. */
    generateKey: async ({ presetId, federationId }: { presetId: PresetId; federationId: string }) =>
      slots.adopt(await generateSecretKey(await context(presetId), federationId)),
    /** Takes a secret-key envelope into a slot; the array is the slot's from now on (HeWorkerClient transfers a copy and wipes the caller's). */
    loadKey: ({ key }: { key: Uint8Array }) => slots.adopt(key),
    /** Zero-fills and forgets a slot (a handle nobody holds any more is harmless to drop twice). */
    dropKey: ({ key }: { key: KeyHandle }) => ({ dropped: slots.drop(key) }),
    dropAllKeys: () => ({ dropped: slots.dropAll() }),
    /** The slot's key as a passphrase-protected key file (keyfile.ts). */
    sealKeyFile: ({ key, passphrase }: { key: KeyHandle; passphrase: string }) => sealKeyFile(slots.envelope(key), passphrase),
    openKeyFile: async ({ file, passphrase }: { file: Uint8Array; passphrase: string }) => slots.adopt(await openKeyFile(file, passphrase)),
    /** AES-GCM of one key's envelope, or of a bundle of several keys' envelopes, under the caller's key. */
    sealKeys: ({ keys, aesKey, iv, additionalData }: AesGcm & { keys: KeyHandle[] }) => slots.seal(keys, aesKey, iv, additionalData),
    /** What sealKeys made, into new slots; null when the AES-GCM tag does not verify. */
    openSealedKeys: ({ aesKey, iv, sealed, additionalData }: AesGcm & { sealed: Uint8Array }) => slots.open(aesKey, iv, sealed, additionalData),
    /** Inclusion markers of `clinicIds` in `round` (inclusion-markers.ts), from the slot's marker secret. */
    inclusionMarkers: ({ key, round, clinicIds }: { key: KeyHandle; round: number; clinicIds: string[] }) => {
      const { secret, federationId } = slots.markerSecret(key);
      return clinicIds.map((clinicId) => markers(secret, federationId, round, clinicId));
    },
    encryptTokenBatch: async ({ key, tokens }: { key: KeyHandle; tokens: Float32Array[] }) => {
      const { ctx, session } = await slots.session(key);
      return encryptTokenBatch(ctx, session, session.federationId, tokens);
    },
    decryptTokenBatch: async (a: { key: KeyHandle; ciphertexts: Uint8Array[]; tokenCount: number; dim: number }) => {
      const { ctx, session } = await slots.session(a.key);
      return decryptTokenBatch(ctx, session, a.ciphertexts, a.tokenCount, a.dim);
    },
    sumCiphertexts: async ({ presetId, federationId, perClinic }: { presetId: PresetId; federationId: string; perClinic: Uint8Array[][] }) =>
      sumCiphertexts(await context(presetId), federationId, perClinic),
    /** log2 of the ciphertext's CKKS scale, once SEAL accepts it as a fresh ciphertext of this federation and preset. */
    validateCiphertext: async ({ presetId, federationId, ciphertext }: { presetId: PresetId; federationId: string; ciphertext: Uint8Array }) => {
      const ctx = await context(presetId);
      return withScope((scope) => ({ scaleBits: Math.log2(scope.track(ctx.loadCiphertext(ciphertext, federationId, 'the ciphertext')).scale()) }));
    },
    /** The ciphertext count and scale of every upload of a round of `length` values under `round`'s bounds (a federation declares them). */
    aggregationShape: async ({ presetId, length, round }: { presetId: PresetId; length: number; round: AggregationRound }) => {
      const ctx = await context(presetId);
      return { ciphertextCount: weightedCiphertextCount(ctx, length), scaleBits: aggregationScaleBits(ctx, round) };
    },
    /** Enc(count * values || count) for one aggregation round (see aggregate.ts). */
    encryptWeightedContribution: async (a: { key: KeyHandle; values: Float32Array | Float64Array; count: number; round: AggregationRound }) => {
      const { ctx, session } = await slots.session(a.key);
      return encryptWeightedContribution(ctx, session, session.federationId, a.values, a.count, a.round);
    },
    decryptWeightedMean: async (a: { key: KeyHandle; sums: Uint8Array[]; length: number }) => {
      const { ctx, session } = await slots.session(a.key);
      return decryptWeightedMean(ctx, session, a.sums, a.length);
    },
    inferenceLayout: async (a: { presetId: PresetId; mode: InferenceMode; classes: number; dim: number; tokensPerGroup?: number; masked?: boolean }) => {
      const { presetId, mode, classes, dim, ...layoutOpts } = a;
      return inferenceLayout(await context(presetId), mode, classes, dim, layoutOpts);
    },
    /** Key holder: Galois (+ relinearization) keys of the slot's key, for the coordinator. */
    generateInferenceKeys: async (a: { key: KeyHandle; layouts: InferenceLayout[]; relin: boolean }) => {
      const { ctx, session } = await slots.session(a.key);
      return generateInferenceKeys(ctx, session, session.federationId, a.layouts, { relin: a.relin });
    },
    encryptInferenceInput: async (a: { key: KeyHandle; tokens: (Float32Array | Float64Array)[]; layout: InferenceLayout }) => {
      const { ctx, session } = await slots.session(a.key);
      return encryptInferenceInput(ctx, session, session.federationId, a.tokens, a.layout);
    },
    encryptHeadForInference: async (a: { key: KeyHandle; head: LinearHead; layout: InferenceLayout }) => {
      const { ctx, session } = await slots.session(a.key);
      return encryptHeadForInference(ctx, session, session.federationId, a.head, a.layout);
    },
    decryptLogits: async (a: { key: KeyHandle; results: Uint8Array[]; layout: InferenceLayout; tokenCount: number }) => {
      const { ctx, session } = await slots.session(a.key);
      return decryptLogits(ctx, session, a.results, a.layout, a.tokenCount);
    },
    /** Coordinator: load evaluation keys once under `keysId` (per worker realm). */
    registerInferenceKeys: async (a: { presetId: PresetId; federationId: string; keysId: string; galoisKeys: Uint8Array; relinKeys?: Uint8Array }) => {
      const keys = InferenceKeys.load(await context(a.presetId), a.federationId, a.galoisKeys, a.relinKeys);
      release(a.keysId);
      keySets.set(a.keysId, { presetId: a.presetId, federationId: a.federationId, object: keys });
      return null;
    },
    /** Coordinator: encode/load a head once under `headId` (per worker realm). */
    registerHead: async (a: { presetId: PresetId; federationId: string; headId: string; layout: InferenceLayout; source: HeadSource }) => {
      const ctx = await context(a.presetId);
      const head = a.source.encrypted
        ? PreparedHead.encrypted(ctx, a.federationId, a.source, a.layout)
        : PreparedHead.plain(ctx, a.source.head, a.layout);
      release(a.headId);
      heads.set(a.headId, { presetId: a.presetId, federationId: a.federationId, object: head });
      return null;
    },
    /** Coordinator: one result array (one envelope per pass) per input group; a cancel stops between groups. */
    evaluateLinear: async (
      a: { presetId: PresetId; federationId: string; headId: string; keysId: string; groups: Uint8Array[][] },
      ctx: RpcContext<{ done: number; total: number }>,
    ) => {
      const he = await context(a.presetId);
      const head = lookup(heads, 'head', a.headId, a.presetId, a.federationId);
      const keys = lookup(keySets, 'key set', a.keysId, a.presetId, a.federationId);
      const results: Uint8Array[][] = [];
      for (const group of a.groups) {
        ctx.signal.throwIfAborted();
        results.push(evaluateLinear(he, a.federationId, group, head, keys));
        ctx.progress({ done: results.length, total: a.groups.length });
      }
      return results;
    },
    /** Frees a registered head or key set. */
    release: ({ id }: { id: string }) => {
      release(id);
      return null;
    },
  } satisfies HandlerTable;
}

export type HeHandlers = ReturnType<typeof heHandlers>;
export type HeArgs<M extends keyof HeHandlers> = ArgsOf<HeHandlers, M>;

/** {code, message} for anything a handler throws. */
export function heWireError(e: unknown, method: string): RpcWireError {
  const error = toHeError(e, method);
  return { code: error.code, message: error.message };
}

/** The HeError a failed call rejects with on the caller's side. */
export function heErrorFromWire(err: RpcWireError, method: string): HeError {
  return new HeError(err.code as HeErrorCode, `${method}: ${err.message}`);
}
