// Translates a checkpoint of one of the supported families into the canonical model of config.ts
// and weights.ts: HF ViTModel / ViTForImageClassification, HF Dinov2Model /
// Dinov2WithRegistersModel (hub names weights_in/weights_out, and transformers 5's
// gate_proj/up_proj/down_proj), timm VisionTransformer folders (config.json with architecture,
// model_args, pretrained_cfg) and original DINOv2 state dicts (w12/w3, register_tokens).
// The architecture is read from the tensor shapes; only what shapes cannot tell (heads, LayerNorm
// eps, pooling, preprocessing) comes from the config files.

import { browserFit, parameterCount, recogniseCatalogueModel } from './catalogue.ts';
import { parseImageProcessorConfig, PLAIN_VIT_EXTENSIONS } from './config.ts';
import type { ImageProcessorConfig, Pooling, Resample, VitConfig } from './config.ts';
import { resampleGrid } from './pos-embed.ts';
import { canonicalVitWeights } from './weights.ts';

export type CheckpointFamily = 'hf-vit' | 'hf-dinov2' | 'timm';

export interface SourceTensor {
  shape: number[];
  data: Float32Array;
}

export interface ConvertOptions {
  pooling?: Pooling;
  /** Input side the model will run at; position embeddings are resampled when the checkpoint's grid differs. */
  imageSize?: number;
}

export interface ConvertedCheckpoint {
  family: CheckpointFamily;
  config: VitConfig;
  processor: ImageProcessorConfig;
  weights: Map<string, Float32Array>;
  /** Checkpoint keys the extractor does not use (heads, mask token). */
  dropped: string[];
  /** The checkpoint's own position grid side, when it was resampled. */
  resampledFrom?: number;
  /** The catalogue model its shapes match (its pooling was applied unless --pooling was given). */
  catalogue?: string;
}

type Rename = [RegExp, string];
const LAYER = String.raw`^(?:encoder\.layer|layers|blocks)\.(\d+)\.`;
const layer = (tail: string, to: string): Rename => [new RegExp(`${LAYER}${tail.replace(/\./g, '\\.')}(\\.(?:weight|bias))$`), `encoder.layer.$1.${to}$2`];

/** Key renames to canonical names; `attention.attention.qkv`, `intermediate.gate/up` and the position table are fixed up afterwards. */
const RENAMES: Rename[] = [
  [/^cls_token$/, 'embeddings.cls_token'],
  [/^(?:reg_token|register_tokens)$/, 'embeddings.register_tokens'],
  [/^pos_embed$/, 'embeddings.position_embeddings'],
  [/^patch_embed\.proj\./, 'embeddings.patch_embeddings.projection.'],
  [/^norm\.(weight|bias)$/, 'layernorm.$1'],
  layer('norm1', 'layernorm_before'),
  layer('norm2', 'layernorm_after'),
  layer('attn.qkv', 'attention.attention.qkv'),
  layer('attn.proj', 'attention.output.dense'),
  layer('attention.q_proj', 'attention.attention.query'),
  layer('attention.k_proj', 'attention.attention.key'),
  layer('attention.v_proj', 'attention.attention.value'),
  layer('attention.o_proj', 'attention.output.dense'),
  [new RegExp(`${LAYER}ls([12])\\.gamma$`), 'encoder.layer.$1.layer_scale$2.lambda1'],
  layer('mlp.fc1', 'intermediate.dense'),
  layer('mlp.fc2', 'output.dense'),
  layer('mlp.w12', 'intermediate.dense'),
  layer('mlp.w3', 'output.dense'),
  layer('mlp.weights_in', 'intermediate.dense'),
  layer('mlp.weights_out', 'output.dense'),
  layer('mlp.gate_proj', 'intermediate.gate'),
  layer('mlp.up_proj', 'intermediate.up'),
  layer('mlp.down_proj', 'output.dense'),
  layer('mlp.fc1_g', 'intermediate.gate'),
  layer('mlp.fc1_x', 'intermediate.up'),
];

const DROPPED = /^(?:pooler\.|classifier\.|head\.|embeddings\.mask_token$|mask_token$)/;
const REFUSED: [RegExp, string][] = [
  [/^fc_norm\./, 'timm fc_norm (global_pool "avg" with a norm after pooling) is not supported; use a checkpoint with the final norm'],
  [/^norm_pre\./, 'timm norm_pre (pre-norm, CLIP-style) is not supported'],
  [/\.attn\.[qk]_norm\./, 'attention q/k norm is not supported'],
  [/\.mlp\.norm\./, 'an MLP norm (timm SwiGLU with norm) is not supported'],
  [/^attn_pool\./, 'timm attention pooling (global_pool "map") is not supported'],
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which family a config.json describes. */
export function checkpointFamily(configJson: unknown): CheckpointFamily {
  if (!isRecord(configJson)) throw new Error('config.json: expected a JSON object');
  if (typeof configJson.architecture === 'string' || isRecord(configJson.pretrained_cfg)) return 'timm';
  const type = configJson.model_type;
  if (type === undefined || type === 'vit') return 'hf-vit';
  if (type === 'dinov2' || type === 'dinov2_with_registers') return 'hf-dinov2';
  throw new Error(`config.json: model_type ${JSON.stringify(type)} is not supported (vit, dinov2, dinov2_with_registers, or a timm config with "architecture")`);
}

/** timm's head counts by model name where model_args does not give num_heads. */
function timmHeads(architecture: string, width: number): number | undefined {
  if (/^vit_giant_patch14(_reg4)?_dinov2/.test(architecture)) return 24;
  const byName: [RegExp, number][] = [[/^vit_tiny/, 3], [/^vit_small/, 6], [/^vit_base/, 12], [/^vit_large/, 16], [/^vit_huge/, 16], [/^vit_giant/, 16]];
  const hit = byName.find(([pattern]) => pattern.test(architecture));
  return hit ? hit[1] : width % 64 === 0 ? width / 64 : undefined;
}

const isSquare = (n: number) => Number.isInteger(Math.sqrt(n));

function need(tensors: Map<string, SourceTensor>, name: string): SourceTensor {
  const tensor = tensors.get(name);
  if (!tensor) throw new Error(`weights: missing tensor "${name}"`);
  return tensor;
}

function rowsOf(tensor: SourceTensor, first: number, count: number): SourceTensor {
  const row = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  return { shape: [count, ...tensor.shape.slice(1)], data: tensor.data.slice(first * row, (first + count) * row) };
}

function stackRows(parts: SourceTensor[]): SourceTensor {
  const data = new Float32Array(parts.reduce((sum, p) => sum + p.data.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.data.length;
  }
  return { shape: [parts.reduce((sum, p) => sum + (p.shape[0] as number), 0), ...(parts[0] as SourceTensor).shape.slice(1)], data };
}

function renameTensors(source: ReadonlyMap<string, SourceTensor>): { tensors: Map<string, SourceTensor>; dropped: string[] } {
  const tensors = new Map<string, SourceTensor>();
  const dropped: string[] = [];
  for (const [key, tensor] of source) {
    const bare = key.replace(/^(?:vit|dinov2|model|backbone)\./, '');
    if (DROPPED.test(bare)) {
      dropped.push(key);
      continue;
    }
    const refused = REFUSED.find(([pattern]) => pattern.test(bare));
    if (refused) throw new Error(`weights: tensor "${key}": ${refused[1]}`);
    const rename = RENAMES.find(([pattern]) => pattern.test(bare));
    const name = rename ? bare.replace(rename[0], rename[1]) : bare;
    if (tensors.has(name)) throw new Error(`weights: tensors "${key}" and another key both map to "${name}"`);
    tensors.set(name, tensor);
  }
  return { tensors, dropped };
}

/** Splits fused qkv and joins separate gate/up projections, so every layer has canonical names. */
function unfuse(tensors: Map<string, SourceTensor>, depth: number): void {
  for (let i = 0; i < depth; i++) {
    const prefix = `encoder.layer.${i}`;
    for (const part of ['weight', 'bias']) {
      const fused = tensors.get(`${prefix}.attention.attention.qkv.${part}`);
      if (fused) {
        const d = (fused.shape[0] as number) / 3;
        ['query', 'key', 'value'].forEach((name, k) => tensors.set(`${prefix}.attention.attention.${name}.${part}`, rowsOf(fused, k * d, d)));
        tensors.delete(`${prefix}.attention.attention.qkv.${part}`);
      }
      const gate = tensors.get(`${prefix}.intermediate.gate.${part}`);
      const up = tensors.get(`${prefix}.intermediate.up.${part}`);
      if (gate && up) {
        tensors.set(`${prefix}.intermediate.dense.${part}`, stackRows([gate, up]));
        tensors.delete(`${prefix}.intermediate.gate.${part}`);
        tensors.delete(`${prefix}.intermediate.up.${part}`);
      }
    }
  }
}

/** Where a checkpoint's position table has rows: [CLS, patches] (HF, original DINOv2), patches only (timm no_embed_class), or [CLS, registers, patches] (timm). */
type PositionLayout = 'cls+patches' | 'patches' | 'prefix+patches';

function positionLayout(family: CheckpointFamily, source: ReadonlyMap<string, SourceTensor>, rows: number, registers: number, modelArgs: Record<string, unknown>): PositionLayout {
  if (family !== 'timm' || [...source.keys()].some((k) => k.endsWith('register_tokens'))) return 'cls+patches';
  if (typeof modelArgs.no_embed_class === 'boolean') return modelArgs.no_embed_class ? 'patches' : 'prefix+patches';
  return isSquare(rows) && !isSquare(rows - 1 - registers) ? 'patches' : 'prefix+patches';
}

/**
 * Rewrites the position table to the canonical [CLS, patches] rows at the run grid: timm's register
 * rows are added into the register tokens (what timm adds to them), a patches-only table gets a zero
 * [CLS] row, and the patch grid is resampled bicubically when `runGrid` differs.
 */
function canonicalPositions(tensors: Map<string, SourceTensor>, layout: PositionLayout, registers: number, runGrid: number): number | undefined {
  const table = need(tensors, 'embeddings.position_embeddings');
  const d = table.shape[2] as number;
  const rows = table.shape[1] as number;
  const prefix = layout === 'patches' ? 0 : layout === 'cls+patches' ? 1 : 1 + registers;
  const grid = Math.sqrt(rows - prefix);
  if (!Number.isInteger(grid)) throw new Error(`weights: position table has ${rows} rows; ${rows - prefix} patch rows are not a square grid`);
  if (layout === 'prefix+patches' && registers > 0) {
    const tokens = need(tensors, 'embeddings.register_tokens');
    const data = tokens.data.slice();
    for (let i = 0; i < registers * d; i++) data[i] = (data[i] as number) + (table.data[d + i] as number);
    tensors.set('embeddings.register_tokens', { shape: tokens.shape, data });
  }
  const patches = resampleGrid(table.data.subarray(prefix * d), grid, runGrid, d);
  const data = new Float32Array((1 + runGrid * runGrid) * d);
  if (prefix > 0) data.set(table.data.subarray(0, d));
  data.set(patches, d);
  tensors.set('embeddings.position_embeddings', { shape: [1, 1 + runGrid * runGrid, d], data });
  return grid === runGrid ? undefined : grid;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** timm pretrained_cfg -> processor: shorter side to floor(size / crop_pct), centre crop, the cfg's interpolation. */
export function timmProcessor(pretrained: Record<string, unknown>, size: number): ImageProcessorConfig {
  const triple = (value: unknown, fallback: [number, number, number]): [number, number, number] =>
    Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number') ? (value as [number, number, number]) : fallback;
  const interpolation = pretrained.interpolation ?? 'bicubic';
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') {
    throw new Error(`config.json: pretrained_cfg.interpolation ${JSON.stringify(interpolation)} is not supported (bicubic or bilinear)`);
  }
  const cropPct = numberOr(pretrained.crop_pct, 0.875);
  if (!(cropPct > 0 && cropPct <= 1)) throw new Error(`config.json: pretrained_cfg.crop_pct ${cropPct} must be in (0, 1]`);
  return {
    image_mean: triple(pretrained.mean, [0.485, 0.456, 0.406]),
    image_std: triple(pretrained.std, [0.229, 0.224, 0.225]),
    size,
    rescale_factor: 1 / 255,
    resample: interpolation as Resample,
    shortest_edge: Math.floor(size / cropPct),
  };
}

/** The same processor at another input side (the crop fraction kept). */
function processorAt(processor: ImageProcessorConfig, size: number): ImageProcessorConfig {
  if (processor.size === size) return processor;
  const edge = processor.shortest_edge;
  return { ...processor, size, ...(edge === undefined ? {} : { shortest_edge: Math.floor((size * edge) / processor.size) }) };
}

/**
 * Converts a checkpoint: `configJson` (config.json), `processorJson` (preprocessor_config.json,
 * required for HF families, ignored for timm, which carries pretrained_cfg), and its tensors.
 */
export function convertCheckpoint(
  configJson: unknown,
  processorJson: unknown,
  source: ReadonlyMap<string, SourceTensor>,
  options: ConvertOptions = {},
): ConvertedCheckpoint {
  const family = checkpointFamily(configJson);
  const json = configJson as Record<string, unknown>;
  const modelArgs = isRecord(json.model_args) ? json.model_args : {};
  const { tensors, dropped } = renameTensors(source);
  const patch = need(tensors, 'embeddings.patch_embeddings.projection.weight');
  const [d, channels, p] = patch.shape as [number, number, number];
  const depth = new Set([...tensors.keys()].flatMap((k) => k.match(/^encoder\.layer\.(\d+)\./)?.[1] ?? [])).size;
  if (depth === 0) throw new Error('weights: no encoder layers found (encoder.layer.N, layers.N or blocks.N)');
  unfuse(tensors, depth);
  const inner = need(tensors, 'encoder.layer.0.output.dense.weight').shape[1] as number;
  const firstRows = need(tensors, 'encoder.layer.0.intermediate.dense.weight').shape[0] as number;
  if (firstRows !== inner && firstRows !== 2 * inner) {
    throw new Error(`weights: MLP first projection has ${firstRows} rows, second takes ${inner}: neither GELU (equal) nor SwiGLU (twice)`);
  }
  const swiglu = firstRows === 2 * inner;
  const act = family === 'timm' ? 'gelu' : (json.hidden_act ?? 'gelu');
  if (!swiglu && act !== 'gelu') throw new Error(`config.json: hidden_act ${JSON.stringify(act)} is not supported (only exact "gelu", or SwiGLU)`);
  const registers = tensors.get('embeddings.register_tokens')?.shape[1] ?? 0;
  const architecture = typeof json.architecture === 'string' ? json.architecture : '';
  const heads =
    family === 'timm' ? numberOr(modelArgs.num_heads, timmHeads(architecture, d) ?? NaN) : numberOr(json.num_attention_heads, NaN);
  if (!Number.isInteger(heads) || d % heads !== 0) {
    throw new Error(`config.json: cannot tell the number of attention heads for width ${d} (give model_args.num_heads / num_attention_heads)`);
  }
  const eps = family === 'timm' ? 1e-6 : numberOr(json.layer_norm_eps, family === 'hf-dinov2' ? 1e-6 : 1e-12);
  const table = need(tensors, 'embeddings.position_embeddings');
  const layout = positionLayout(family, source, table.shape[1] as number, registers, modelArgs);
  let processor: ImageProcessorConfig;
  if (family === 'timm') {
    const pretrained = isRecord(json.pretrained_cfg) ? json.pretrained_cfg : {};
    const inputSize = Array.isArray(pretrained.input_size) ? numberOr(pretrained.input_size[2], 224) : numberOr(modelArgs.img_size, 224);
    processor = timmProcessor(pretrained, inputSize);
  } else {
    if (processorJson === undefined) throw new Error('preprocessor_config.json: missing (HF checkpoints carry it next to config.json)');
    processor = parseImageProcessorConfig(processorJson);
  }
  const imageSize = options.imageSize ?? processor.size;
  if (imageSize % p !== 0) throw new Error(`image size ${imageSize} is not a multiple of the patch size ${p}`);
  const resampledFrom = canonicalPositions(tensors, layout, registers, imageSize / p);
  const config: VitConfig = {
    hidden_size: d,
    num_hidden_layers: depth,
    num_attention_heads: heads,
    intermediate_size: inner,
    image_size: imageSize,
    patch_size: p,
    num_channels: channels,
    layer_norm_eps: eps,
    hidden_act: 'gelu',
    qkv_bias: tensors.has('encoder.layer.0.attention.attention.query.bias'),
    use_swiglu_ffn: swiglu,
    layer_scale: tensors.has('encoder.layer.0.layer_scale1.lambda1'),
    num_register_tokens: registers,
    pooling: options.pooling ?? PLAIN_VIT_EXTENSIONS.pooling,
  };
  browserFit({ name: 'this checkpoint', parameters: parameterCount(config) });
  const known = recogniseCatalogueModel(config, family);
  if (known?.pooling && options.pooling === undefined) config.pooling = known.pooling;
  const { weights } = canonicalVitWeights(config, tensors);
  return {
    family, config, processor: processorAt(processor, imageSize), weights, dropped,
    ...(resampledFrom ? { resampledFrom } : {}), ...(known ? { catalogue: known.name } : {}),
  };
}
