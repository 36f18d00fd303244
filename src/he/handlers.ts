// The HE worker's methods, declared once: a handler table served by the browser module worker (worker.ts) and the
// coordinator's worker threads (node-worker.ts) over src/rpc; HeWorkerClient and HeNodePool derive their call types
// from it. Registered heads and evaluation keys live in per-realm registries so the coordinator loads 7 MB of Galois
// keys once, not per call. Errors cross as {code, message} (toHeError) and come back as HeError.
import { aggregationScaleBits, decryptWeightedMean, encryptWeightedContribution, weightedCiphertextCount } from './aggregate.ts';
import type { AggregationRound } from './aggregate.ts';
import { HeContext } from './context.ts';
import { HeError, toHeError } from './errors.ts';
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

type Sk = { presetId: PresetId; secretKey: Uint8Array; federationId: string };

export function heHandlers(opts: HandlerOptions = {}) {
  const context = (presetId: PresetId) => HeContext.create(presetId, opts.wasmUrl ? { wasmUrl: opts.wasmUrl } : undefined);
  return {
    generateSecretKey: async ({ presetId, federationId }: { presetId: PresetId; federationId: string }) =>
      generateSecretKey(await context(presetId), federationId),
    encryptTokenBatch: async ({ presetId, secretKey, federationId, tokens }: Sk & { tokens: Float32Array[] }) =>
      encryptTokenBatch(await context(presetId), secretKey, federationId, tokens),
    decryptTokenBatch: async (a: { presetId: PresetId; secretKey: Uint8Array; ciphertexts: Uint8Array[]; tokenCount: number; dim: number }) =>
      decryptTokenBatch(await context(a.presetId), a.secretKey, a.ciphertexts, a.tokenCount, a.dim),
    sumCiphertexts: async ({ presetId, federationId, perClinic }: { presetId: PresetId; federationId: string; perClinic: Uint8Array[][] }) =>
      sumCiphertexts(await context(presetId), federationId, perClinic),
    /** log2 of the ciphertext's CKKS scale, once SEAL accepts it as a fresh ciphertext of this federation and preset. */
    validateCiphertext: async ({ presetId, federationId, ciphertext }: { presetId: PresetId; federationId: string; ciphertext: Uint8Array }) => {
      const ctx = await context(presetId);
      return withScope((scope) => ({ scaleBits: Math.log2(scope.track(ctx.loadCiphertext(ciphertext, federationId, 'the ciphertext')).scale()) }));
    },
    sealKeyFile: ({ secretKey, passphrase }: { secretKey: Uint8Array; passphrase: string }) => sealKeyFile(secretKey, passphrase),
    openKeyFile: ({ file, passphrase }: { file: Uint8Array; passphrase: string }) => openKeyFile(file, passphrase),
    /** The ciphertext count and scale of every upload of a round of `length` values under `round`'s bounds (a federation declares them). */
    aggregationShape: async ({ presetId, length, round }: { presetId: PresetId; length: number; round: AggregationRound }) => {
      const ctx = await context(presetId);
      return { ciphertextCount: weightedCiphertextCount(ctx, length), scaleBits: aggregationScaleBits(ctx, round) };
    },
    /** Enc(count * values || count) for one aggregation round (see aggregate.ts). */
    encryptWeightedContribution: async (a: Sk & { values: Float32Array | Float64Array; count: number; round: AggregationRound }) =>
      encryptWeightedContribution(await context(a.presetId), a.secretKey, a.federationId, a.values, a.count, a.round),
    decryptWeightedMean: async (a: { presetId: PresetId; secretKey: Uint8Array; sums: Uint8Array[]; length: number }) =>
      decryptWeightedMean(await context(a.presetId), a.secretKey, a.sums, a.length),
    inferenceLayout: async (a: { presetId: PresetId; mode: InferenceMode; classes: number; dim: number; tokensPerGroup?: number; masked?: boolean }) => {
      const { presetId, mode, classes, dim, ...layoutOpts } = a;
      return inferenceLayout(await context(presetId), mode, classes, dim, layoutOpts);
    },
    generateInferenceKeys: async (a: Sk & { layouts: InferenceLayout[]; relin: boolean }) =>
      generateInferenceKeys(await context(a.presetId), a.secretKey, a.federationId, a.layouts, { relin: a.relin }),
    encryptInferenceInput: async (a: Sk & { tokens: (Float32Array | Float64Array)[]; layout: InferenceLayout }) =>
      encryptInferenceInput(await context(a.presetId), a.secretKey, a.federationId, a.tokens, a.layout),
    encryptHeadForInference: async (a: Sk & { head: LinearHead; layout: InferenceLayout }) =>
      encryptHeadForInference(await context(a.presetId), a.secretKey, a.federationId, a.head, a.layout),
    decryptLogits: async (a: { presetId: PresetId; secretKey: Uint8Array; results: Uint8Array[]; layout: InferenceLayout; tokenCount: number }) =>
      decryptLogits(await context(a.presetId), a.secretKey, a.results, a.layout, a.tokenCount),
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
