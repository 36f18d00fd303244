// The ViT weight set: which tensors a config needs (HF ViTModel names and shapes, plus
// `embeddings.register_tokens`, `layer_scale{1,2}.lambda1` as in HF Dinov2), validation of a
// checkpoint against that list, seeded random weights, and loading a verified model folder.

import { numPatches, parseImageProcessorConfig, parseVitConfig, PLAIN_VIT_EXTENSIONS, POOLINGS, tokenWidth } from './config.ts';
import type { ImageProcessorConfig, Pooling, VitConfig } from './config.ts';
import { LazyWeights } from './lazy-weights.ts';
import { indexSafetensors, writeSafetensors } from './safetensors.ts';
import type { DecodedTensor, SafetensorsDtype, TensorEntry } from './safetensors.ts';
import { mulberry32 } from '../common/mulberry32.ts';
import { sha256Hex } from '../common/sha256.ts';

export interface ExpectedTensor {
  name: string;
  shape: number[];
  /** Random init: uniform in [center - halfWidth, center + halfWidth]. */
  init: { center: number; halfWidth: number };
}

/** Keys a HF checkpoint may carry that the feature extractor does not use. */
const UNUSED_KEYS = new Set(['pooler.dense.weight', 'pooler.dense.bias', 'classifier.weight', 'classifier.bias', 'embeddings.mask_token']);

const PREFIX = 'vit.';

/**
 * Every tensor of HF's ViTModel for `config`, in a fixed canonical order (the order random
 * weights are drawn in; scripts/vit-fixtures.py relies on it). Random-init widths keep activations
 * O(1) and attention far from uniform, so a wrong reshape or transpose changes the output.
 */
export function expectedVitTensors(config: VitConfig): ExpectedTensor[] {
  const d = config.hidden_size;
  const inner = config.intermediate_size;
  const p = config.patch_size;
  const linear = (fanIn: number) => ({ center: 0, halfWidth: 2 / Math.sqrt(fanIn) });
  const bias = { center: 0, halfWidth: 0.1 };
  const lnWeight = { center: 1, halfWidth: 0.2 };
  const tensors: ExpectedTensor[] = [
    { name: 'embeddings.cls_token', shape: [1, 1, d], init: { center: 0, halfWidth: 1 } },
    { name: 'embeddings.position_embeddings', shape: [1, numPatches(config) + 1, d], init: { center: 0, halfWidth: 1 } },
    {
      name: 'embeddings.patch_embeddings.projection.weight',
      shape: [d, config.num_channels, p, p],
      init: linear(config.num_channels * p * p),
    },
    { name: 'embeddings.patch_embeddings.projection.bias', shape: [d], init: bias },
  ];
  if (config.num_register_tokens > 0) {
    tensors.push({ name: 'embeddings.register_tokens', shape: [1, config.num_register_tokens, d], init: { center: 0, halfWidth: 1 } });
  }
  const dense = (name: string, out: number, fanIn: number, withBias = true) => {
    tensors.push({ name: `${name}.weight`, shape: [out, fanIn], init: linear(fanIn) });
    if (withBias) tensors.push({ name: `${name}.bias`, shape: [out], init: bias });
  };
  const layerNorm = (name: string) => {
    tensors.push({ name: `${name}.weight`, shape: [d], init: lnWeight }, { name: `${name}.bias`, shape: [d], init: bias });
  };
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const layer = `encoder.layer.${i}`;
    for (const projection of ['query', 'key', 'value']) {
      dense(`${layer}.attention.attention.${projection}`, d, d, config.qkv_bias);
    }
    dense(`${layer}.attention.output.dense`, d, d);
    // SwiGLU: rows [0, inner) are the gate (silu), rows [inner, 2 inner) the value, as timm's packed fc1.
    dense(`${layer}.intermediate.dense`, config.use_swiglu_ffn ? 2 * inner : inner, d);
    dense(`${layer}.output.dense`, d, inner);
    layerNorm(`${layer}.layernorm_before`);
    layerNorm(`${layer}.layernorm_after`);
    if (config.layer_scale) {
      for (const scale of ['layer_scale1', 'layer_scale2']) {
        tensors.push({ name: `${layer}.${scale}.lambda1`, shape: [d], init: { center: 0.5, halfWidth: 0.4 } });
      }
    }
  }
  layerNorm('layernorm');
  return tensors;
}

/** Deterministic weights: one mulberry32 stream over all tensors in canonical order. */
export function randomVitWeights(config: VitConfig, seed: number): Map<string, Float32Array> {
  const next = mulberry32(seed);
  const weights = new Map<string, Float32Array>();
  for (const { name, shape, init } of expectedVitTensors(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = init.center + (2 * next() - 1) * init.halfWidth;
    weights.set(name, data);
  }
  return weights;
}

export interface CanonicalWeights {
  weights: Map<string, Float32Array>;
  /** Checkpoint keys recognised as heads the extractor does not need (pooler, classifier, mask token). */
  dropped: string[];
}

/**
 * Maps checkpoint tensors to canonical ViTModel names: strips an optional `vit.` prefix
 * (ViTForImageClassification), drops known unused heads, and rejects unknown keys, missing tensors
 * and wrong shapes with the tensor's name.
 */
export function canonicalVitWeights(
  config: VitConfig,
  tensors: ReadonlyMap<string, Pick<DecodedTensor, 'shape' | 'data'>>,
): CanonicalWeights {
  const expected = new Map(expectedVitTensors(config).map((t) => [t.name, t]));
  const weights = new Map<string, Float32Array>();
  const dropped: string[] = [];
  for (const [key, tensor] of tensors) {
    const name = key.startsWith(PREFIX) ? key.slice(PREFIX.length) : key;
    if (UNUSED_KEYS.has(name)) {
      dropped.push(key);
      continue;
    }
    const want = expected.get(name);
    if (!want) throw new Error(`weights: unknown tensor "${key}" (not part of a ViTModel with this config.json)`);
    if (weights.has(name)) throw new Error(`weights: tensor "${name}" appears twice (with and without the "vit." prefix)`);
    if (tensor.shape.length !== want.shape.length || tensor.shape.some((dim, i) => dim !== want.shape[i])) {
      throw new Error(`weights: tensor "${key}" has shape [${tensor.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
    }
    weights.set(name, tensor.data);
  }
  const missing = [...expected.keys()].filter((name) => !weights.has(name));
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((n) => `"${n}"`).join(', ');
    throw new Error(`weights: missing tensor ${shown}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  }
  return { weights, dropped };
}

/** Checks a canonical weight map (as built in memory) against `config`, naming the first bad tensor. */
export function validateVitWeights(config: VitConfig, weights: ReadonlyMap<string, Float32Array>): void {
  const lengthOf = (name: string) => (weights instanceof LazyWeights ? weights.lengthOf(name) : weights.get(name)?.length);
  validateTensorLengths(config, weights.keys(), lengthOf);
}

/** Checks tensor names and value counts (a weight map, or a safetensors header before any data) against `config`. */
export function validateTensorLengths(config: VitConfig, names: Iterable<string>, lengthOf: (name: string) => number | undefined): void {
  const expected = expectedVitTensors(config);
  const known = new Set(expected.map((t) => t.name));
  for (const name of names) {
    if (!known.has(name)) throw new Error(`weights: unknown tensor "${name}"`);
  }
  for (const { name, shape } of expected) {
    const length = lengthOf(name);
    if (length === undefined) throw new Error(`weights: missing tensor "${name}"`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (length !== size) {
      throw new Error(`weights: tensor "${name}" has ${length} values, expected ${size} for shape [${shape.join(', ')}]`);
    }
  }
}

/** A model folder's safetensors header against its config and manifest: every tensor present, of the right size, in the manifest's dtype. */
export function checkSafetensorsHeader(config: VitConfig, entries: ReadonlyMap<string, TensorEntry>, dtype: SafetensorsDtype): void {
  for (const [name, entry] of entries) {
    if (entry.dtype !== dtype) throw new Error(`model folder: tensor "${name}" is stored as ${entry.dtype}, manifest.json says ${dtype}`);
  }
  validateTensorLengths(config, entries.keys(), (name) => entries.get(name)?.shape.reduce((a, b) => a * b, 1));
}

export const MODEL_FILES = ['config.json', 'preprocessor_config.json', 'model.safetensors'] as const;

export interface ModelManifest {
  dtype: SafetensorsDtype;
  /** How a tile becomes a token and how many values it has (absent in folders made before pooling existed: cls, hidden_size). */
  pooling?: Pooling;
  token_width?: number;
  files: Record<string, { sha256: string; bytes: number }>;
}

export function parseManifest(json: unknown): ModelManifest {
  const file = 'manifest.json';
  if (typeof json !== 'object' || json === null) throw new Error(`${file}: expected a JSON object`);
  const { dtype, files, pooling, token_width: width } = json as Record<string, unknown>;
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
    throw new Error(`${file}: field "dtype" must be "F32", "F16" or "BF16", got ${JSON.stringify(dtype)}`);
  }
  if (typeof files !== 'object' || files === null) throw new Error(`${file}: field "files" must be an object`);
  const entries = files as Record<string, unknown>;
  for (const name of MODEL_FILES) {
    const entry = entries[name] as { sha256?: unknown; bytes?: unknown } | undefined;
    if (!entry) throw new Error(`${file}: files has no entry for "${name}"`);
    if (typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) {
      throw new Error(`${file}: files["${name}"].sha256 must be 64 lowercase hex digits`);
    }
    if (typeof entry.bytes !== 'number' || !Number.isInteger(entry.bytes) || entry.bytes < 0) {
      throw new Error(`${file}: files["${name}"].bytes must be a non-negative integer`);
    }
  }
  if (pooling !== undefined && !POOLINGS.includes(pooling as Pooling)) {
    throw new Error(`${file}: field "pooling" must be one of ${POOLINGS.join(', ')}, got ${JSON.stringify(pooling)}`);
  }
  if (width !== undefined && !(Number.isInteger(width) && (width as number) > 0)) {
    throw new Error(`${file}: field "token_width" must be a positive integer, got ${JSON.stringify(width)}`);
  }
  return {
    dtype,
    ...(pooling === undefined ? {} : { pooling: pooling as Pooling }),
    ...(width === undefined ? {} : { token_width: width as number }),
    files: entries as ModelManifest['files'],
  };
}

/** The manifest and config.json must agree on what a token is: caches and HE layouts are sized from it. */
function checkTokenShape(manifest: ModelManifest, config: VitConfig): void {
  const pooling = manifest.pooling ?? PLAIN_VIT_EXTENSIONS.pooling;
  if (pooling !== config.pooling) throw new Error(`model folder: manifest.json pooling ${pooling} differs from config.json pooling ${config.pooling}`);
  const width = manifest.token_width ?? config.hidden_size;
  if (width !== tokenWidth(config)) {
    throw new Error(`model folder: manifest.json token_width ${width} differs from ${tokenWidth(config)} (config.json, pooling ${config.pooling})`);
  }
}

/**
 * The model's identity for caches: sha256 of the folder's `sha256sum`-style listing
 * ("<sha256>  <name>\n" for config.json, model.safetensors, preprocessor_config.json, sorted by
 * name), so a change to any file that affects tokens changes it.
 */
export async function modelIdentity(files: ModelManifest['files']): Promise<string> {
  const listing = [...MODEL_FILES]
    .sort()
    .map((name) => `${files[name]?.sha256}  ${name}\n`)
    .join('');
  return sha256Hex(listing);
}

/** A model folder's small files, verified: what it is, before its weights are read. */
export interface ModelHead {
  manifest: ModelManifest;
  config: VitConfig;
  processor: ImageProcessorConfig;
  modelSha256: string;
  /** Values per token (manifest.json token_width, checked against config.json). */
  tokenWidth: number;
}

export interface LoadedModel extends ModelHead {
  /** Decoded tensor by tensor as they are read (LazyWeights). */
  weights: ReadonlyMap<string, Float32Array>;
}

/** Throws unless `bytes` (the file `name`) has the size and sha256 that manifest.json lists. */
export function verifyModelFile(manifest: ModelManifest, name: string, bytes: Uint8Array): void {
  const want = manifest.files[name] as { sha256: string; bytes: number };
  if (bytes.byteLength !== want.bytes) throw new Error(`model folder: ${name} is ${bytes.byteLength} bytes, manifest.json says ${want.bytes}`);
  checkModelFileDigest(name, want.sha256, sha256Hex(bytes));
}

/** Throws unless the file `name` hashed to `actual`, the sha256 manifest.json lists (`expected`). */
export function checkModelFileDigest(name: string, expected: string, actual: string, context = ''): void {
  if (actual !== expected) throw new Error(`model folder: checksum mismatch for ${name}: manifest.json says ${expected}, file is ${actual}${context}`);
}

type FetchFile = (name: string) => Promise<Uint8Array>;

async function readFile(fetchFile: FetchFile, name: string): Promise<Uint8Array> {
  try {
    return await fetchFile(name);
  } catch (error) {
    throw new Error(`model folder: cannot read ${name}: ${(error as Error).message}`, { cause: error });
  }
}

function parseJsonFile(name: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`model folder: ${name} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** Reads and verifies manifest.json, config.json and preprocessor_config.json (sizes and sha256 from the manifest). */
export async function readModelHead(fetchFile: FetchFile): Promise<ModelHead> {
  const manifest = parseManifest(parseJsonFile('manifest.json', await readFile(fetchFile, 'manifest.json')));
  const [configBytes, processorBytes] = await Promise.all(
    (['config.json', 'preprocessor_config.json'] as const).map(async (name) => {
      const bytes = await readFile(fetchFile, name);
      verifyModelFile(manifest, name, bytes);
      return bytes;
    }),
  );
  const config = parseVitConfig(parseJsonFile('config.json', configBytes as Uint8Array));
  const processor = parseImageProcessorConfig(parseJsonFile('preprocessor_config.json', processorBytes as Uint8Array));
  if (processor.size !== config.image_size) {
    throw new Error(`model folder: preprocessor_config.json size ${processor.size} differs from config.json image_size ${config.image_size}`);
  }
  checkTokenShape(manifest, config);
  return { manifest, config, processor, modelSha256: await modelIdentity(manifest.files), tokenWidth: tokenWidth(config) };
}

/**
 * Loads a model folder (manifest.json, config.json, preprocessor_config.json, model.safetensors)
 * through `fetchFile`, checking every file's size and sha256 against the manifest and every tensor
 * against the config. The whole model.safetensors is held (Node; the browser worker streams it: stream-load.ts).
 */
export async function loadModelFolder(fetchFile: FetchFile): Promise<LoadedModel> {
  const head = await readModelHead(fetchFile);
  const file = await readFile(fetchFile, 'model.safetensors');
  verifyModelFile(head.manifest, 'model.safetensors', file);
  const { entries } = indexSafetensors(file);
  checkSafetensorsHeader(head.config, entries, head.manifest.dtype);
  return { ...head, weights: new LazyWeights(file, entries) };
}

/** config.json text for `config`: HF ViTConfig fields plus the extensions of config.ts. */
export function vitConfigJson(config: VitConfig): string {
  return `${JSON.stringify({ architectures: ['ViTModel'], model_type: 'vit', ...config }, null, 2)}\n`;
}

/**
 * The files of a model folder: the given config.json and preprocessor_config.json texts (validated
 * against each other and the weights), model.safetensors in canonical names and order, stored as
 * `dtype`, and manifest.json with every file's size and sha256.
 */
export async function buildModelFolder(
  configJson: string,
  processorJson: string,
  weights: ReadonlyMap<string, Float32Array>,
  dtype: SafetensorsDtype,
): Promise<Map<string, Uint8Array>> {
  const config = parseVitConfig(JSON.parse(configJson));
  const processor = parseImageProcessorConfig(JSON.parse(processorJson));
  if (processor.size !== config.image_size) {
    throw new Error(`preprocessor_config.json size ${processor.size} differs from config.json image_size ${config.image_size}`);
  }
  validateVitWeights(config, weights);
  const tensors = expectedVitTensors(config).map(({ name, shape }) => ({ name, shape, data: weights.get(name) as Float32Array }));
  const files = new Map<string, Uint8Array>([
    ['config.json', new TextEncoder().encode(configJson)],
    ['preprocessor_config.json', new TextEncoder().encode(processorJson)],
    ['model.safetensors', writeSafetensors(tensors, dtype, { format: 'pt' })],
  ]);
  const manifest: ModelManifest = { dtype, pooling: config.pooling, token_width: tokenWidth(config), files: {} };
  for (const [name, bytes] of files) manifest.files[name] = { sha256: sha256Hex(bytes), bytes: bytes.byteLength };
  files.set('manifest.json', new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}
