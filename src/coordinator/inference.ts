// Encrypted inference at the coordinator: the federation's published model (head in clear or encrypted) and the
// key holder's evaluation keys are loaded into the HE worker pool once (by content hash) and reused for every
// request. The coordinator never decrypts: inputs and results are ciphertexts under the federation key.
import type { HeNodePool } from '../he/node-pool.ts';
import type { HeadSource } from '../he/handlers.ts';
import { decodeBundle } from '../protocol/bundle.ts';
import { decodeInferenceModel, INFERENCE_LIMITS, type InferenceLayoutWire } from '../protocol/inference-model.ts';
import { HttpError } from './errors.ts';
import type { BlobStore, FederationRow, Store } from './stores/types.ts';

const PRESET = 'inf-v1';

class InferenceUnavailable extends HttpError {
  constructor(message: string) {
    super(409, 'inference-unavailable', message);
  }
}
class InferenceInputError extends HttpError {
  constructor(message: string) {
    super(400, 'invalid-inference-input', message);
  }
}

export class InferenceService {
  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly pool: HeNodePool;
  private readonly registered = new Map<string, Promise<void>>();
  private readonly models = new Map<string, { layout: InferenceLayoutWire; encrypted: boolean }>();

  constructor(store: Store, blobs: BlobStore, pool: HeNodePool) {
    this.store = store;
    this.blobs = blobs;
    this.pool = pool;
  }

  private once(id: string, register: () => Promise<void>): Promise<void> {
    let job = this.registered.get(id);
    if (!job) {
      job = register().catch((e: unknown) => {
        this.registered.delete(id);
        throw e;
      });
      this.registered.set(id, job);
    }
    return job;
  }

  /** Loads and validates a model in the pool; throws on anything SEAL or the layout checks reject. */
  async prepareModel(federationId: string, modelSha: string, bytes: Uint8Array): Promise<{ layout: InferenceLayoutWire; encrypted: boolean }> {
    const model = decodeInferenceModel(bytes);
    const source: HeadSource = model.encrypted
      ? { encrypted: true, weights: model.weights, biases: model.biases }
      : { encrypted: false, head: { classes: model.layout.classes, dim: model.layout.dim, weights: model.weights, biases: model.biases } };
    await this.once(`head:${modelSha}`, () => this.pool.registerHead(PRESET, federationId, `head:${modelSha}`, model.layout, source));
    const prepared = { layout: model.layout, encrypted: model.encrypted };
    this.models.set(modelSha, prepared);
    return prepared;
  }

  /** Loads uploaded Galois keys into the pool now, so garbage is refused at upload instead of breaking inference. */
  async checkGaloisKeys(federationId: string, sha: string, bytes: Uint8Array): Promise<void> {
    const keysId = `keys:${sha}:`;
    await this.once(keysId, () => this.pool.registerInferenceKeys(PRESET, federationId, keysId, bytes));
  }

  async infer(federation: FederationRow, body: Uint8Array): Promise<{ results: Uint8Array[]; layout: InferenceLayoutWire }> {
    const modelSha = await this.store.inferenceModel(federation.id);
    if (!modelSha) throw new InferenceUnavailable('no inference model is published for this federation yet; a key holder publishes one after training');
    const galoisSha = await this.store.evaluationKey(federation.id, 'galois-keys');
    if (!galoisSha) throw new InferenceUnavailable('no Galois keys are published for this federation; a key holder publishes them with the model');
    const model = this.models.get(modelSha) ?? (await this.prepareModel(federation.id, modelSha, await this.blobs.get(modelSha)));
    const { layout } = model;
    const relinSha = await this.store.evaluationKey(federation.id, 'relin-keys');
    if (model.encrypted && !relinSha) throw new InferenceUnavailable('the model is encrypted but no relinearization keys are published');
    const keysId = `keys:${galoisSha}:${model.encrypted ? relinSha : ''}`;
    await this.once(keysId, async () =>
      this.pool.registerInferenceKeys(PRESET, federation.id, keysId, await this.blobs.get(galoisSha), model.encrypted && relinSha ? await this.blobs.get(relinSha) : undefined),
    );
    const inputs = decodeBundle(body);
    if (inputs.length % layout.ciphertextsPerGroup !== 0) {
      throw new InferenceInputError(`the model's layout takes ${layout.ciphertextsPerGroup} ciphertext(s) per group of ${layout.tokensPerGroup} token(s); got ${inputs.length}`);
    }
    const groupCount = inputs.length / layout.ciphertextsPerGroup;
    if (groupCount > INFERENCE_LIMITS.maxGroups) throw new InferenceInputError(`at most ${INFERENCE_LIMITS.maxGroups} groups per request; got ${groupCount}`);
    const groups = Array.from({ length: groupCount }, (_, g) => inputs.slice(g * layout.ciphertextsPerGroup, (g + 1) * layout.ciphertextsPerGroup));
    const results = await this.pool.evaluateLinear(PRESET, federation.id, `head:${modelSha}`, keysId, groups);
    return { results: results.flat(), layout };
  }
}
