// A VitModel's backend tensors, built from checkpoint tensors (canonical ViTModel names, HF [out, in] layout) that
// arrive one at a time and in any order: each group of tensors that one parameter needs (a Linear with its bias and
// LayerScale, the three attention projections, a LayerNorm) is uploaded as soon as its last member arrives, and its
// float32 source arrays are dropped. A model folder streamed from the network is thus built while it downloads and
// never held whole; VitModel.create feeds a whole in-memory map through the same path.
// Dense kernels larger than a device's buffer limit (WebGPU maxStorageBufferBindingSize) are uploaded as column
// blocks whose products are concatenated (buffer-plan.ts decides the limit).

import * as tf from '@tensorflow/tfjs';
import { numPatches } from './config.ts';
import type { VitConfig } from './config.ts';
import { expectedVitTensors } from './weights.ts';

export interface Dense {
  /** [in, out] (HF Linear stores [out, in]). */
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** A linear layer as column blocks: one block unless a buffer limit forced a split; the block outputs are concatenated. */
export type Linear = Dense[];

export interface LayerNormParams {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/**
 * Query/key/value projections (query pre-scaled by 1/sqrt(head dim)) in one of two layouts:
 * - 'fused': one [D, 3D] matMul, then batched attention over all images and heads: few large
 *   dispatches, best on GPU backends.
 * - 'perHead': per-head kernels, so every step is a plain 2D matMul, one image at a time. On
 *   tfjs-backend-wasm only plain 2D matMuls run through XNNPACK (batched or transposed ones are
 *   ~10x slower) and each slice/split/unstack costs time proportional to its whole input, so
 *   cutting heads out of a fused result took a quarter of ViT-B/16's time at batch 8.
 */
export type QkvProjection =
  | { layout: 'fused'; projection: Linear }
  | { layout: 'perHead'; heads: { query: Dense; value: Dense; keyT: { kernel: tf.Tensor2D; bias: tf.Tensor2D } }[] };

export type QkvLayout = QkvProjection['layout'];

export interface EncoderLayer {
  layerNormBefore: LayerNormParams;
  qkv: QkvProjection;
  /** LayerScale folded in (kernel columns and bias times lambda). */
  attentionOutput: Linear;
  layerNormAfter: LayerNormParams;
  /** GELU MLP: the whole first projection; SwiGLU: its value half. */
  intermediate: Linear;
  /** SwiGLU only: the gate half (silu), a separate matMul rather than a slice of a fused one (slices are costly on wasm). */
  gate?: Linear;
  /** LayerScale folded in. */
  output: Linear;
}

export interface Parameters {
  /** [P, P, C, D] for tf.conv2d on NHWC input. */
  patchKernel: tf.Tensor4D;
  patchBias: tf.Tensor1D;
  clsToken: tf.Tensor3D;
  positions: tf.Tensor3D;
  registerTokens?: tf.Tensor3D;
  layers: EncoderLayer[];
  layerNorm: LayerNormParams;
  qkvLayout: QkvLayout;
}

export interface AssemblyOptions {
  qkvLayout: QkvLayout;
  /** Most bytes one dense kernel block may take on the backend (a WebGPU buffer limit); unlimited when absent. */
  maxKernelBytes?: number;
}

/** Every tf.Tensor inside a (possibly partly built) parameter tree. */
export function parameterTensors(tree: unknown, into: tf.Tensor[] = []): tf.Tensor[] {
  if (tree instanceof tf.Tensor) into.push(tree);
  else if (Array.isArray(tree)) for (const item of tree) parameterTensors(item, into);
  else if (typeof tree === 'object' && tree !== null) for (const value of Object.values(tree)) parameterTensors(value, into);
  return into;
}

/** Splits `total` columns into near-equal blocks of at most `max` (multiples of 4 where that costs no extra block: vec4 loads on WebGPU). */
export function columnBlocks(total: number, max: number): [number, number][] {
  if (total <= max) return [[0, total]];
  const count = Math.ceil(total / max);
  let size = Math.ceil(total / count);
  if (Math.ceil(size / 4) * 4 <= max) size = Math.ceil(size / 4) * 4;
  const blocks: [number, number][] = [];
  for (let first = 0; first < total; first += size) blocks.push([first, Math.min(size, total - first)]);
  return blocks;
}

type Get = (name: string) => Float32Array;

interface Group {
  names: string[];
  build(get: Get): void;
}

type Draft = Partial<Omit<Parameters, 'layers'>> & { layers: Partial<EncoderLayer>[] };

/** Collects checkpoint tensors and builds each parameter once everything it needs has arrived. */
export class ParameterAssembler {
  readonly #expected: Map<string, number>;
  readonly #groupOf = new Map<string, Group>();
  readonly #waiting = new Map<Group, number>();
  readonly #pending = new Map<string, Float32Array>();
  readonly #draft: Draft;
  #pendingValues = 0;
  #peakPendingValues = 0;

  constructor(config: VitConfig, options: AssemblyOptions) {
    this.#expected = new Map(expectedVitTensors(config).map((t) => [t.name, t.shape.reduce((a, b) => a * b, 1)]));
    this.#draft = { layers: Array.from({ length: config.num_hidden_layers }, () => ({})), qkvLayout: options.qkvLayout };
    for (const group of parameterGroups(config, options, this.#draft)) {
      this.#waiting.set(group, group.names.length);
      for (const name of group.names) this.#groupOf.set(name, group);
    }
  }

  /** Most float32 values held at once while waiting for the rest of a group (what streaming costs beyond the model). */
  get peakPendingValues(): number {
    return this.#peakPendingValues;
  }

  /** Takes one tensor (it may be kept until the rest of its group arrives); builds the group when complete. */
  add(name: string, data: Float32Array): void {
    const want = this.#expected.get(name);
    if (want === undefined) throw new Error(`weights: unknown tensor "${name}"`);
    if (data.length !== want) throw new Error(`weights: tensor "${name}" has ${data.length} values, expected ${want}`);
    const group = this.#groupOf.get(name) as Group;
    if (this.#pending.has(name) || this.#waiting.get(group) === undefined) throw new Error(`weights: tensor "${name}" given twice`);
    this.#pending.set(name, data);
    this.#pendingValues += data.length;
    this.#peakPendingValues = Math.max(this.#peakPendingValues, this.#pendingValues);
    const left = (this.#waiting.get(group) as number) - 1;
    if (left > 0) {
      this.#waiting.set(group, left);
      return;
    }
    this.#waiting.delete(group);
    try {
      group.build((n) => this.#pending.get(n) as Float32Array);
    } finally {
      for (const n of group.names) {
        this.#pendingValues -= (this.#pending.get(n) as Float32Array).length;
        this.#pending.delete(n);
      }
    }
  }

  /** The built parameters, once every tensor has been added. */
  finish(): Parameters {
    if (this.#waiting.size > 0) {
      const missing = [...this.#waiting.keys()].flatMap((g) => g.names.filter((n) => !this.#pending.has(n)));
      throw new Error(`weights: missing tensor ${missing.slice(0, 5).map((n) => `"${n}"`).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
    }
    return this.#draft as Parameters;
  }

  /** Frees whatever was built (a load that failed or whose checksum did not match). */
  dispose(): void {
    tf.dispose(parameterTensors(this.#draft));
    this.#pending.clear();
    this.#pendingValues = 0;
  }
}

function parameterGroups(config: VitConfig, options: AssemblyOptions, draft: Draft): Group[] {
  const d = config.hidden_size;
  const p = config.patch_size;
  const headDim = d / config.num_attention_heads;
  const queryScale = 1 / Math.sqrt(headDim);
  const maxColumns = (fanIn: number) => (options.maxKernelBytes === undefined ? Infinity : Math.max(1, Math.floor(options.maxKernelBytes / (4 * fanIn))));
  /** Rows [first, first + count) of an HF [out, in] weight, as a tfjs [in, count] kernel. */
  const kernelRows = (data: Float32Array, fanIn: number, first: number, count: number, scale = 1) =>
    tf.tidy(() => tf.transpose(tf.mul(tf.tensor2d(data.subarray(first * fanIn, (first + count) * fanIn), [count, fanIn]), scale)) as tf.Tensor2D);
  const biasRows = (data: Float32Array | undefined, first: number, count: number, scale = 1) =>
    tf.tidy(() => (data ? tf.mul(tf.tensor1d(data.subarray(first, first + count)), scale) : tf.zeros([count])) as tf.Tensor1D);
  /** Rows [first, first + out) of a Linear in column blocks; `lambda` (LayerScale) multiplies output channel j by lambda[j]. */
  const linear = (weight: Float32Array, bias: Float32Array, out: number, fanIn: number, first = 0, lambda?: Float32Array): Linear =>
    columnBlocks(out, maxColumns(fanIn)).map(([start, count]) => {
      const dense: Dense = { kernel: kernelRows(weight, fanIn, first + start, count), bias: tf.tensor1d(bias.subarray(first + start, first + start + count)) };
      if (!lambda) return dense;
      const scale = tf.tensor1d(lambda.subarray(start, start + count));
      const scaled = { kernel: tf.mul<tf.Tensor2D>(dense.kernel, scale), bias: tf.mul<tf.Tensor1D>(dense.bias, scale) };
      tf.dispose([scale, dense.kernel, dense.bias]);
      return scaled;
    });
  const norm = (name: string, set: (params: LayerNormParams) => void): Group => ({
    names: [`${name}.weight`, `${name}.bias`],
    build: (get) => set({ gamma: tf.tensor1d(get(`${name}.weight`)), beta: tf.tensor1d(get(`${name}.bias`)) }),
  });
  const one = (name: string, build: (data: Float32Array) => void): Group => ({ names: [name], build: (get) => build(get(name)) });

  const qkvGroup = (attention: string, set: (qkv: QkvProjection) => void): Group => {
    const parts = [`${attention}.query`, `${attention}.key`, `${attention}.value`] as const;
    const names = parts.flatMap((part) => (config.qkv_bias ? [`${part}.weight`, `${part}.bias`] : [`${part}.weight`]));
    const bias = (get: Get, part: string) => (config.qkv_bias ? get(`${part}.bias`) : undefined);
    return {
      names,
      build: (get) => {
        const [query, key, value] = parts;
        if (options.qkvLayout === 'fused') {
          const scaled = [
            [query, queryScale],
            [key, 1],
            [value, 1],
          ] as const;
          if (3 * d <= maxColumns(d)) {
            const kernel = tf.tidy(() => tf.concat(scaled.map(([part, scale]) => kernelRows(get(`${part}.weight`), d, 0, d, scale)), 1) as tf.Tensor2D);
            const joined = tf.tidy(() => tf.concat(scaled.map(([part, scale]) => biasRows(bias(get, part), 0, d, scale))) as tf.Tensor1D);
            set({ layout: 'fused', projection: [{ kernel, bias: joined }] });
            return;
          }
          // Over the buffer limit: q, k and v in column blocks of their own, concatenated in the same order.
          const projection = scaled.flatMap(([part, scale]) =>
            columnBlocks(d, maxColumns(d)).map(([first, count]) => ({ kernel: kernelRows(get(`${part}.weight`), d, first, count, scale), bias: biasRows(bias(get, part), first, count, scale) })),
          );
          set({ layout: 'fused', projection });
          return;
        }
        const heads = Array.from({ length: config.num_attention_heads }, (_, head) => {
          const first = head * headDim;
          return {
            query: { kernel: kernelRows(get(`${query}.weight`), d, first, headDim, queryScale), bias: biasRows(bias(get, query), first, headDim, queryScale) },
            value: { kernel: kernelRows(get(`${value}.weight`), d, first, headDim), bias: biasRows(bias(get, value), first, headDim) },
            // k^T = W_k h^T: the HF rows are already the [headDim, d] kernel this needs.
            keyT: {
              kernel: tf.tensor2d(get(`${key}.weight`).subarray(first * d, (first + headDim) * d), [headDim, d]),
              bias: tf.tidy(() => tf.reshape(biasRows(bias(get, key), first, headDim), [headDim, 1]) as tf.Tensor2D),
            },
          };
        });
        set({ layout: 'perHead', heads });
      },
    };
  };

  const inner = config.intermediate_size;
  const groups: Group[] = [];
  draft.layers.forEach((built, i) => {
    const layer = `encoder.layer.${i}`;
    const scale = (which: 1 | 2) => (config.layer_scale ? [`${layer}.layer_scale${which}.lambda1`] : []);
    const dense = (name: string, lambda: string[], set: (get: Get) => void): Group => ({ names: [`${name}.weight`, `${name}.bias`, ...lambda], build: set });
    const attentionOutput = `${layer}.attention.output.dense`;
    const intermediate = `${layer}.intermediate.dense`;
    const output = `${layer}.output.dense`;
    groups.push(
      norm(`${layer}.layernorm_before`, (params) => (built.layerNormBefore = params)),
      qkvGroup(`${layer}.attention.attention`, (qkv) => (built.qkv = qkv)),
      dense(attentionOutput, scale(1), (get) => {
        built.attentionOutput = linear(get(`${attentionOutput}.weight`), get(`${attentionOutput}.bias`), d, d, 0, scale(1).map(get)[0]);
      }),
      norm(`${layer}.layernorm_after`, (params) => (built.layerNormAfter = params)),
      dense(intermediate, [], (get) => {
        const [weight, bias] = [get(`${intermediate}.weight`), get(`${intermediate}.bias`)];
        // SwiGLU: rows [0, inner) are the gate (silu), rows [inner, 2 inner) the value, as timm's packed fc1.
        built.intermediate = linear(weight, bias, inner, d, config.use_swiglu_ffn ? inner : 0);
        if (config.use_swiglu_ffn) built.gate = linear(weight, bias, inner, d);
      }),
      dense(output, scale(2), (get) => {
        built.output = linear(get(`${output}.weight`), get(`${output}.bias`), d, inner, 0, scale(2).map(get)[0]);
      }),
    );
  });
  groups.push(
    one('embeddings.patch_embeddings.projection.weight', (data) => {
      draft.patchKernel = tf.tidy(() => tf.transpose(tf.tensor4d(data, [d, config.num_channels, p, p]), [2, 3, 1, 0]));
    }),
    one('embeddings.patch_embeddings.projection.bias', (data) => (draft.patchBias = tf.tensor1d(data))),
    one('embeddings.cls_token', (data) => (draft.clsToken = tf.tensor3d(data, [1, 1, d]))),
    one('embeddings.position_embeddings', (data) => (draft.positions = tf.tensor3d(data, [1, numPatches(config) + 1, d]))),
    norm('layernorm', (params) => (draft.layerNorm = params)),
  );
  if (config.num_register_tokens > 0) {
    groups.push(one('embeddings.register_tokens', (data) => (draft.registerTokens = tf.tensor3d(data, [1, config.num_register_tokens, d]))));
  }
  return groups;
}
