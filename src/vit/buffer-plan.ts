// What a ViT needs from a device before any weight is downloaded: the memory it takes in a tab (float32 weights on the
// backend, one encoder layer's intermediates, what loading holds on the way), and whether every buffer it creates fits
// a WebGPU device's buffer limits (maxBufferSize, maxStorageBufferBindingSize). Dense kernels over the limit are split
// into column blocks (model-params.ts), activations over it by running fewer images per forward pass; anything else
// over the limit (the patch-embedding kernel, a position table, one image's activations) makes the plan fail with the
// tensor named, and the worker falls back to the next backend. Free of tfjs: the Settings page estimates with it too.

import { numPatches } from './config.ts';
import type { VitConfig } from './config.ts';
import { parameterCount } from './catalogue.ts';
import type { QkvLayout } from './model-params.ts';
import { formatBytes } from '../common/format-bytes.ts';

/** A model or a buffer that this device cannot hold; the message says what, how big, and the limit. */
export class DeviceLimitError extends Error {
  override name = 'DeviceLimitError';
}

/** The largest WebAssembly heap tfjs-backend-wasm can grow to (its Emscripten getHeapMax: 4 GiB less one 64 KiB page). */
export const WASM_HEAP_MAX_BYTES = 4294901760;

const F32 = 4;

interface BufferNeed {
  what: string;
  shape: number[];
  /** Dense kernels [in, out] may be cut into column blocks; this is their fan-in. */
  fanIn?: number;
  /** The fused query/key/value kernel is split as its three parts, each into its own blocks. */
  parts?: number;
}

const bytesOf = (need: BufferNeed) => need.shape.reduce((a, b) => a * b, F32);
const describe = (need: BufferNeed) => `${need.what} [${need.shape.join(', ')}] (${formatBytes(bytesOf(need))})`;

/** Weight tensors as they sit on the backend after layout (one layer stands for all: every layer is alike). */
function weightBuffers(config: VitConfig, layout: QkvLayout): BufferNeed[] {
  const { hidden_size: d, intermediate_size: inner, patch_size: p, num_channels: c } = config;
  const layer = 'encoder.layer.*';
  const needs: BufferNeed[] = [
    { what: 'embeddings.patch_embeddings.projection.weight', shape: [p, p, c, d] },
    { what: 'embeddings.position_embeddings', shape: [1, numPatches(config) + 1, d] },
    { what: `${layer}.attention.output.dense.weight`, shape: [d, d], fanIn: d },
    { what: `${layer}.intermediate.dense.weight${config.use_swiglu_ffn ? ' (each half)' : ''}`, shape: [d, inner], fanIn: d },
    { what: `${layer}.output.dense.weight`, shape: [inner, d], fanIn: inner },
  ];
  if (config.num_register_tokens > 0) needs.push({ what: 'embeddings.register_tokens', shape: [1, config.num_register_tokens, d] });
  if (layout === 'fused') needs.push({ what: `${layer}.attention.attention.{query,key,value} (fused)`, shape: [d, 3 * d], fanIn: d, parts: 3 });
  return needs;
}

/** The largest activations of a forward pass over `n` images (per-head layout: one image at a time). */
function activationBuffers(config: VitConfig, layout: QkvLayout, n: number): BufferNeed[] {
  const { hidden_size: d, intermediate_size: inner, num_attention_heads: heads, image_size: s, num_channels: c } = config;
  const tokens = 1 + config.num_register_tokens + numPatches(config);
  const images = layout === 'perHead' ? 1 : n;
  return [
    { what: 'input pixels', shape: [n, c, s, s] },
    { what: 'token sequence', shape: [images * tokens, d] },
    { what: 'MLP hidden layer', shape: [images * tokens, inner] },
    layout === 'fused' ? { what: 'fused query/key/value', shape: [images * tokens, 3 * d] } : { what: 'one head’s attention scores', shape: [tokens, tokens] },
    ...(layout === 'fused' ? [{ what: 'attention scores', shape: [images, heads, tokens, tokens] }] : []),
  ];
}

export interface BufferPlan {
  /** The limit planned against (bytes) and where it comes from. */
  limitBytes: number;
  limit: string;
  /** Images per forward pass at most (the activations of more would exceed the limit). */
  maxBatch: number;
  /** Dense kernels uploaded as column blocks. */
  split: { tensor: string; bytes: number; blocks: number }[];
  /** The largest buffer the model creates with this plan. */
  largestBytes: number;
}

/**
 * How `config` runs under a per-buffer limit of `limitBytes` (`limit` names it in messages), with at most `batchSize`
 * images per forward pass; throws DeviceLimitError naming the first tensor that cannot fit.
 */
export function planBuffers(config: VitConfig, layout: QkvLayout, limitBytes: number, limit: string, batchSize: number): BufferPlan {
  const over = (need: BufferNeed, extra = '') =>
    new DeviceLimitError(`${describe(need)} does not fit the ${limit} of ${formatBytes(limitBytes)}${extra}`);
  const split: BufferPlan['split'] = [];
  let largestBytes = 0;
  for (const need of weightBuffers(config, layout)) {
    const bytes = bytesOf(need);
    if (bytes <= limitBytes) {
      largestBytes = Math.max(largestBytes, bytes);
      continue;
    }
    if (need.fanIn === undefined) throw over(need, ' and cannot be split');
    const columns = Math.floor(limitBytes / (F32 * need.fanIn));
    if (columns < 1) throw over(need, `: even one column (${formatBytes(F32 * need.fanIn)}) is larger`);
    const parts = need.parts ?? 1;
    const out = (need.shape[1] as number) / parts;
    split.push({ tensor: need.what, bytes, blocks: parts * Math.ceil(out / columns) });
    largestBytes = Math.max(largestBytes, Math.min(columns, out) * F32 * need.fanIn);
  }
  let maxBatch = Math.max(1, batchSize);
  const tooLarge = (n: number) => activationBuffers(config, layout, n).find((need) => bytesOf(need) > limitBytes);
  while (maxBatch > 1 && tooLarge(maxBatch)) maxBatch--;
  const blocking = tooLarge(maxBatch);
  if (blocking) throw over(blocking, ' even for one image');
  largestBytes = Math.max(largestBytes, ...activationBuffers(config, layout, maxBatch).map(bytesOf));
  return { limitBytes, limit, maxBatch, split, largestBytes };
}

export interface MemoryEstimate {
  parameters: number;
  /** float32 weights on the backend (tfjs has no float16 tensors). */
  weightBytes: number;
  /**
   * wasm only: tfjs-backend-wasm caches an XNNPACK operator per dense kernel, which holds a packed copy of it, so the
   * kernels are in the heap twice once every layer has run (measured: the ViT-L/16 heap grows from 1.2 to 2.2 GiB in
   * the first forward pass).
   */
  packedKernelBytes: number;
  /** One encoder layer's intermediates (each layer runs in its own tf.tidy, which keeps them until the layer ends). */
  workingBytes: number;
  /** Loading: a tensor being read and decoded, tensors waiting for the rest of their group, a kernel being transposed. */
  loadingBytes: number;
  totalBytes: number;
}

/**
 * Memory `config` needs in a tab running `batchSize` images per forward pass, with tensors stored at `storedBytes` per
 * value; `parameters` from the safetensors header when it has been read (else counted from the config).
 */
export function estimateModelMemory(config: VitConfig, layout: QkvLayout, batchSize: number, storedBytes = 2, parameters = parameterCount(config)): MemoryEstimate {
  const { hidden_size: d, intermediate_size: inner, num_attention_heads: heads, image_size: s, num_channels: c } = config;
  const tokens = 1 + config.num_register_tokens + numPatches(config);
  const images = layout === 'perHead' ? 1 : batchSize;
  // LayerNorms, projections, residuals ~25 [tokens, d]; the MLP ~6 [tokens, inner]; scores and softmax 2 [heads, tokens, tokens].
  const layerValues = images * (25 * tokens * d + 6 * tokens * inner + 2 * heads * tokens * tokens);
  // The batch's pixels: the preprocessed array, its tensor and the NHWC transpose.
  const pixelValues = 3 * batchSize * c * s * s;
  const mlpIn = (config.use_swiglu_ffn ? 2 : 1) * inner;
  const largestTensor = Math.max(mlpIn * d, numPatches(config) * d);
  // A group waiting for its LayerScale holds the attention output, the MLP input and output projections.
  const largestGroup = config.layer_scale ? d * d + 2 * mlpIn * d : Math.max(3 * d * d, mlpIn * d);
  const loadingValues = (storedBytes / F32 + 1) * largestTensor + largestGroup + 3 * Math.max(3 * d * d, inner * d);
  const weightBytes = F32 * parameters;
  const packedKernelBytes = layout === 'perHead' ? F32 * config.num_hidden_layers * (4 * d * d + mlpIn * d + inner * d) : 0;
  const workingBytes = F32 * (layerValues + pixelValues);
  const loadingBytes = F32 * loadingValues;
  return { parameters, weightBytes, packedKernelBytes, workingBytes, loadingBytes, totalBytes: weightBytes + packedKernelBytes + workingBytes + loadingBytes };
}

export interface MemoryAllowance {
  bytes: number;
  /** Where the figure comes from, for the message. */
  source: string;
}

/**
 * How much memory this browser lets the model use: the WebAssembly heap's 4 GiB on wasm, the device memory the
 * browser reports (navigator.deviceMemory, GiB, a lower bound), and a cap set for a test; null when nothing bounds it.
 */
export function memoryAllowance(backend: string, deviceMemoryGiB: number | undefined, capBytes: number | undefined): MemoryAllowance | null {
  const bounds: MemoryAllowance[] = [];
  if (backend === 'wasm') bounds.push({ bytes: WASM_HEAP_MAX_BYTES, source: 'the WebAssembly heap limit' });
  if (deviceMemoryGiB !== undefined && deviceMemoryGiB > 0) bounds.push({ bytes: deviceMemoryGiB * 2 ** 30, source: 'the device memory this browser reports' });
  if (capBytes !== undefined) bounds.push({ bytes: capBytes, source: 'the memory limit set for this run' });
  return bounds.reduce<MemoryAllowance | null>((least, b) => (least === null || b.bytes < least.bytes ? b : least), null);
}

/** Throws DeviceLimitError ("needs about X, this browser allows Y") when `estimate` exceeds `allowance`. */
export function checkMemory(estimate: MemoryEstimate, allowance: MemoryAllowance | null, model: string): void {
  if (!allowance || estimate.totalBytes <= allowance.bytes) return;
  throw new DeviceLimitError(
    `${model} cannot be held here: it needs about ${formatBytes(estimate.totalBytes)} (${formatBytes(estimate.weightBytes)} of float32 weights for ` +
      `${(estimate.parameters / 1e6).toFixed(1)}M parameters, ${formatBytes(estimate.packedKernelBytes + estimate.workingBytes + estimate.loadingBytes)} to load and run), ` +
      `this browser allows ${formatBytes(allowance.bytes)} (${allowance.source})`,
  );
}
