// Encrypted inference over the coordinator (src/he/inference.ts layouts, src/protocol/inference-model.ts wire format).
// A key holder publishes the federation's linear head: Galois keys (+ relinearization keys when the head is
// encrypted) made from the inference key, then the head in clear or encrypted. Any clinic holding the inference key
// then encrypts tokens here, the coordinator evaluates the head on the ciphertexts, and only this browser decrypts
// the logits. Nothing here ever sends a key, a token or a logit in clear; a head published in clear is noise-flooded.
import type { LinearHead } from '../../he/head.ts';
import type { InferenceLayout, InferenceMode } from '../../he/inference.ts';
import { decodeBundle, encodeBundle } from '../../protocol/bundle.ts';
import { encodeInferenceModel } from '../../protocol/inference-model.ts';
import { floodNoise } from '../../he/noise-flooding.ts';
import { ApiError, coordinatorApi, type PublishedModel } from '../api/coordinator.ts';
import { heWorker } from '../workers.ts';
import type { KeyHandle } from '../../he/key-slots.ts';
import { dropKeys, INFERENCE_PRESET, loadInferenceKey } from './federation-keys.ts';

/** What a browser needs to use a federation's coordinator: its enrolment token and the vault slot of its keys. */
export interface InferenceAccess {
  federationId: string;
  token: string;
  clinicName: string;
  keySlot: string;
}

export type HeadProtection = 'encrypted' | 'clear';

export interface PublishReport {
  sha256: string;
  layout: InferenceLayout;
  encrypted: boolean;
  bytes: { galoisKeys: number; relinKeys: number; model: number };
}

export interface EncryptedLogits {
  /** [tile][class], decrypted in this browser. */
  logits: Float64Array[];
  model: PublishedModel;
  bytesUp: number;
  bytesDown: number;
}

/** Groups per request: bounded so progress moves and one request stays a few MB (the coordinator takes ≤ 64). */
const GROUPS_PER_REQUEST = { single: 8, batched: 4 } as const;

/** Runs `use` with the inference key opened from the vault into the HE worker, and zero-fills its slot afterwards. */
async function withInferenceKey<T>(access: InferenceAccess, use: (key: KeyHandle) => Promise<T>): Promise<T> {
  const key = await loadInferenceKey(access.keySlot);
  if ('missing' in key) {
    throw new Error(
      key.missing === 'keys'
        ? `this browser holds no key for federation ${access.federationId}; get it on the Federation page (relay or key file) first`
        : 'this browser holds only the aggregation key (stored by an older version); import a current key file on the Federation page',
    );
  }
  try {
    return await use(key.handle);
  } finally {
    await dropKeys([key]);
  }
}

/**
 * The layouts a published head may use, sharing one set of Galois keys: 'single' (one tile per ciphertext, all
 * classes in lanes) and 'batched' with as many tiles per ciphertext as 'single' has class lanes, so that both need
 * the same rotation steps and one group of tiles fits one ciphertext.
 */
export async function inferenceLayouts(classes: number, dim: number): Promise<Record<InferenceMode, InferenceLayout>> {
  const he = heWorker();
  const single = await he.inferenceLayout(INFERENCE_PRESET, 'single', classes, dim);
  const tokensPerGroup = single.classesPerPass >= 2 ? single.classesPerPass : undefined;
  return { single, batched: await he.inferenceLayout(INFERENCE_PRESET, 'batched', classes, dim, { tokensPerGroup }) };
}

export function publishInferenceModel(access: InferenceAccess, head: LinearHead, opts: { protection: HeadProtection; mode: InferenceMode }): Promise<PublishReport> {
  return withInferenceKey(access, (key) => publishWith(key, access, head, opts));
}

async function publishWith(key: KeyHandle, access: InferenceAccess, head: LinearHead, opts: { protection: HeadProtection; mode: InferenceMode }): Promise<PublishReport> {
  const he = heWorker();
  const layouts = await inferenceLayouts(head.classes, head.dim);
  const layout = layouts[opts.mode];
  const encrypted = opts.protection === 'encrypted';
  const { galoisKeys, relinKeys } = await he.generateInferenceKeys(key, [layouts.single, layouts.batched], encrypted);
  await coordinatorApi.putEvaluationKey(access.token, access.federationId, 'galois-keys', galoisKeys);
  if (relinKeys) await coordinatorApi.putEvaluationKey(access.token, access.federationId, 'relin-keys', relinKeys);
  const model = encrypted
    ? encodeInferenceModel({ layout, encrypted: true, ...(await he.encryptHeadForInference(key, head, layout)) })
    : // The head was decrypted from an aggregate: it leaves this clinic noise-flooded (src/he/noise-flooding.ts).
      encodeInferenceModel({ layout, encrypted: false, weights: floodNoise(head.weights), biases: floodNoise(head.biases) });
  const { sha256 } = await coordinatorApi.putInferenceModel(access.token, access.federationId, model);
  return { sha256, layout, encrypted, bytes: { galoisKeys: galoisKeys.byteLength, relinKeys: relinKeys?.byteLength ?? 0, model: model.byteLength } };
}

/** The published model's layout, or null when none is published yet. */
export async function publishedModel(access: InferenceAccess, signal?: AbortSignal): Promise<PublishedModel | null> {
  try {
    return await coordinatorApi.inferenceModel(access.token, access.federationId, signal);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.code === 'no-model') return null;
    throw e;
  }
}

export const NO_MODEL_MESSAGE = 'no model is published for encrypted inference yet: a key holder publishes it on this page (“Publish for encrypted inference”)';

export async function classifyEncrypted(
  access: InferenceAccess,
  tokens: readonly Float32Array[],
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<EncryptedLogits> {
  const model = await publishedModel(access, signal);
  if (!model) throw new Error(NO_MODEL_MESSAGE);
  const { layout } = model;
  const dim = tokens[0]?.length ?? 0;
  if (dim !== layout.dim) throw new Error(`the published model takes ${layout.dim}-number tokens and these tiles have ${dim}; extract them with the model the federation was trained on`);
  return withInferenceKey(access, (key) => classifyWith(key, access, tokens, model, onProgress, signal));
}

async function classifyWith(
  key: KeyHandle,
  access: InferenceAccess,
  tokens: readonly Float32Array[],
  model: PublishedModel,
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<EncryptedLogits> {
  const { layout } = model;
  const he = heWorker();
  const perRequest = GROUPS_PER_REQUEST[layout.mode] * layout.tokensPerGroup;
  const logits: Float64Array[] = [];
  let bytesUp = 0;
  let bytesDown = 0;
  onProgress(0, tokens.length);
  for (let at = 0; at < tokens.length; at += perRequest) {
    const chunk = tokens.slice(at, at + perRequest);
    const groups = await he.encryptInferenceInput(key, chunk, layout);
    const body = encodeBundle(groups.flat());
    const answer = await coordinatorApi.infer(access.token, access.federationId, body, signal);
    bytesUp += body.byteLength;
    bytesDown += answer.byteLength;
    const results = decodeBundle(answer);
    if (results.length !== groups.length * layout.passes) {
      throw new Error(`the coordinator answered ${results.length} ciphertexts for ${groups.length} group(s) × ${layout.passes} pass(es)`);
    }
    for (let g = 0; g < groups.length; g++) {
      const count = Math.min(layout.tokensPerGroup, chunk.length - g * layout.tokensPerGroup);
      logits.push(...(await he.decryptLogits(key, results.slice(g * layout.passes, (g + 1) * layout.passes), layout, count)));
    }
    onProgress(logits.length, tokens.length);
  }
  return { logits, model, bytesUp, bytesDown };
}
