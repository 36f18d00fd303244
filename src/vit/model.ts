// The ViT forward pass in tfjs, covering HF ViTModel, HF Dinov2(WithRegisters) and timm
// VisionTransformer (after checkpoint-weights.ts maps them to one layout): conv patch embedding,
// [CLS] token, learned position embeddings (CLS and patches), register tokens inserted after [CLS]
// without position embedding, pre-LayerNorm encoder blocks (multi-head self-attention, exact
// erf-GELU or SwiGLU MLP, optional LayerScale), final LayerNorm; the token is the [CLS] row, the
// mean of the patch rows, or both concatenated (config.pooling).

import * as tf from '@tensorflow/tfjs';
import { numPatches, tokenWidth } from './config.ts';
import type { VitConfig } from './config.ts';
import { validateVitWeights } from './weights.ts';

interface Dense {
  /** [in, out] (HF Linear stores [out, in]). */
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

interface LayerNormParams {
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
type QkvProjection =
  | { layout: 'fused'; projection: Dense }
  | { layout: 'perHead'; heads: { query: Dense; value: Dense; keyT: { kernel: tf.Tensor2D; bias: tf.Tensor2D } }[] };

type QkvLayout = QkvProjection['layout'];

interface EncoderLayer {
  layerNormBefore: LayerNormParams;
  qkv: QkvProjection;
  /** LayerScale folded in (kernel columns and bias times lambda). */
  attentionOutput: Dense;
  layerNormAfter: LayerNormParams;
  /** GELU MLP: the whole first projection; SwiGLU: its value half. */
  intermediate: Dense;
  /** SwiGLU only: the gate half (silu), a separate matMul rather than a slice of a fused one (slices are costly on wasm). */
  gate?: Dense;
  /** LayerScale folded in. */
  output: Dense;
}

interface Parameters {
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

interface Shape {
  n: number;
  tokens: number;
  heads: number;
  headDim: number;
}

function dense(x: tf.Tensor2D, { kernel, bias }: Dense): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: kernel, bias }) as tf.Tensor2D;
}

function layerNorm(x: tf.Tensor2D, { gamma, beta }: LayerNormParams, eps: number): tf.Tensor2D {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** Exact GELU, HF's "gelu": x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul<tf.Tensor2D>(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** [n * tokens, d] -> [n, heads, tokens, headDim]. */
function splitHeads(t: tf.Tensor2D, { n, tokens, heads, headDim }: Shape): tf.Tensor4D {
  return tf.transpose(tf.reshape(t, [n, tokens, heads, headDim]), [0, 2, 1, 3]);
}

/** Multi-head self-attention before the output projection: [n * tokens, d] -> [n * tokens, d], heads side by side. */
function selfAttention(h: tf.Tensor2D, qkv: QkvProjection, shape: Shape): tf.Tensor2D {
  if (qkv.layout === 'fused') {
    const [q, k, v] = tf.split(dense(h, qkv.projection), 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const probs = tf.softmax(tf.matMul(splitHeads(q, shape), splitHeads(k, shape), false, true));
    const context = tf.matMul(probs, splitHeads(v, shape));
    return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [shape.n * shape.tokens, shape.heads * shape.headDim]);
  }
  const hT = tf.transpose(h); // one image: [d, tokens]
  const contexts = qkv.heads.map(({ query, keyT, value }) => {
    const scores = tf.matMul(dense(h, query), tf.add(tf.matMul(keyT.kernel, hT), keyT.bias));
    return tf.matMul(tf.softmax(scores), dense(h, value));
  });
  return tf.concat(contexts, 1) as tf.Tensor2D;
}

/** One pre-LayerNorm block: x + attention(LN(x)), then + MLP(LN(.)). */
function encoderLayer(x: tf.Tensor2D, layer: EncoderLayer, shape: Shape, eps: number): tf.Tensor2D {
  const context = selfAttention(layerNorm(x, layer.layerNormBefore, eps), layer.qkv, shape);
  const attended = tf.add<tf.Tensor2D>(x, dense(context, layer.attentionOutput));
  const h = layerNorm(attended, layer.layerNormAfter, eps);
  let mlp: tf.Tensor2D;
  if (layer.gate) {
    const gate = dense(h, layer.gate);
    mlp = tf.mul(tf.mul(gate, tf.sigmoid(gate)), dense(h, layer.intermediate));
  } else {
    mlp = gelu(dense(h, layer.intermediate));
  }
  return tf.add(attended, dense(mlp, layer.output));
}

export class VitModel {
  readonly config: VitConfig;
  #params: Parameters | undefined;

  private constructor(config: VitConfig, params: Parameters) {
    this.config = config;
    this.#params = params;
  }

  /**
   * Validates `weights` (canonical ViTModel names) and uploads them to the current tfjs backend
   * (choose the backend first: the attention layout depends on it).
   */
  static create(config: VitConfig, weights: ReadonlyMap<string, Float32Array>): VitModel {
    validateVitWeights(config, weights);
    const d = config.hidden_size;
    const p = config.patch_size;
    const headDim = d / config.num_attention_heads;
    const queryScale = 1 / Math.sqrt(headDim);
    const qkvLayout: QkvLayout = tf.getBackend() === 'wasm' ? 'perHead' : 'fused';
    const get = (name: string) => weights.get(name) as Float32Array;
    const vector = (name: string) => tf.tensor1d(get(name));
    /** Rows [first, first + count) of an HF [out, in] weight, as a tfjs [in, count] kernel. */
    const kernelRows = (name: string, fanIn: number, first: number, count: number, scale = 1) =>
      tf.tidy(() => tf.transpose(tf.mul(tf.tensor2d(get(name).subarray(first * fanIn, (first + count) * fanIn), [count, fanIn]), scale)) as tf.Tensor2D);
    const biasRows = (name: string, first: number, count: number, scale = 1) =>
      tf.tidy(() => (config.qkv_bias ? tf.mul(tf.tensor1d(get(name).subarray(first, first + count)), scale) : tf.zeros([count])) as tf.Tensor1D);
    /** Rows [first, first + out) of a Linear; `scale` (LayerScale lambda) multiplies output channel j by scale[j]. */
    const denseLayer = (name: string, out: number, fanIn: number, first = 0, scale?: string): Dense => {
      const dense: Dense = {
        kernel: kernelRows(`${name}.weight`, fanIn, first, out),
        bias: tf.tensor1d(get(`${name}.bias`).subarray(first, first + out)),
      };
      if (!scale) return dense;
      const lambda = tf.tensor1d(get(scale));
      const scaled = { kernel: tf.mul<tf.Tensor2D>(dense.kernel, lambda), bias: tf.mul<tf.Tensor1D>(dense.bias, lambda) };
      tf.dispose([lambda, dense.kernel, dense.bias]);
      return scaled;
    };
    const norm = (name: string): LayerNormParams => ({ gamma: vector(`${name}.weight`), beta: vector(`${name}.bias`) });

    const qkvProjection = (attention: string): QkvProjection => {
      const [query, key, value] = ['query', 'key', 'value'].map((t) => `${attention}.${t}`) as [string, string, string];
      if (qkvLayout === 'fused') {
        const parts = [
          [query, queryScale],
          [key, 1],
          [value, 1],
        ] as const;
        return {
          layout: 'fused',
          projection: {
            kernel: tf.tidy(() => tf.concat(parts.map(([name, scale]) => kernelRows(`${name}.weight`, d, 0, d, scale)), 1)),
            bias: tf.tidy(() => tf.concat(parts.map(([name, scale]) => biasRows(`${name}.bias`, 0, d, scale)))),
          },
        };
      }
      const heads = Array.from({ length: config.num_attention_heads }, (_, head) => {
        const first = head * headDim;
        return {
          query: { kernel: kernelRows(`${query}.weight`, d, first, headDim, queryScale), bias: biasRows(`${query}.bias`, first, headDim, queryScale) },
          value: { kernel: kernelRows(`${value}.weight`, d, first, headDim), bias: biasRows(`${value}.bias`, first, headDim) },
          // k^T = W_k h^T: the HF rows are already the [headDim, d] kernel this needs.
          keyT: {
            kernel: tf.tensor2d(get(`${key}.weight`).subarray(first * d, (first + headDim) * d), [headDim, d]),
            bias: tf.tidy(() => tf.reshape(biasRows(`${key}.bias`, first, headDim), [headDim, 1]) as tf.Tensor2D),
          },
        };
      });
      return { layout: 'perHead', heads };
    };

    const inner = config.intermediate_size;
    const layers = Array.from({ length: config.num_hidden_layers }, (_, i): EncoderLayer => {
      const layer = `encoder.layer.${i}`;
      const scale = (which: 1 | 2) => (config.layer_scale ? `${layer}.layer_scale${which}.lambda1` : undefined);
      const swiglu = config.use_swiglu_ffn;
      return {
        layerNormBefore: norm(`${layer}.layernorm_before`),
        qkv: qkvProjection(`${layer}.attention.attention`),
        attentionOutput: denseLayer(`${layer}.attention.output.dense`, d, d, 0, scale(1)),
        layerNormAfter: norm(`${layer}.layernorm_after`),
        intermediate: denseLayer(`${layer}.intermediate.dense`, inner, d, swiglu ? inner : 0),
        ...(swiglu ? { gate: denseLayer(`${layer}.intermediate.dense`, inner, d) } : {}),
        output: denseLayer(`${layer}.output.dense`, d, inner, 0, scale(2)),
      };
    });
    return new VitModel(config, {
      patchKernel: tf.tidy(() =>
        tf.transpose(tf.tensor4d(get('embeddings.patch_embeddings.projection.weight'), [d, config.num_channels, p, p]), [2, 3, 1, 0]),
      ),
      patchBias: vector('embeddings.patch_embeddings.projection.bias'),
      clsToken: tf.tensor3d(get('embeddings.cls_token'), [1, 1, d]),
      positions: tf.tensor3d(get('embeddings.position_embeddings'), [1, numPatches(config) + 1, d]),
      ...(config.num_register_tokens > 0
        ? { registerTokens: tf.tensor3d(get('embeddings.register_tokens'), [1, config.num_register_tokens, d]) }
        : {}),
      layers,
      layerNorm: norm('layernorm'),
      qkvLayout,
    });
  }

  /**
   * Tokens for `n` preprocessed images (`pixels` is N x C x S x S, as preprocessRgba makes
   * them). Returns one tokenWidth(config) vector per image, each in its own buffer (transferable);
   * every intermediate tensor is disposed. With the per-head layout (wasm) images run one at a
   * time: on a CPU a batch gains nothing, and slicing images apart would cost more.
   */
  async embedBatch(pixels: Float32Array, n: number): Promise<Float32Array[]> {
    const params = this.#params;
    if (!params) throw new Error('VitModel: embedBatch called after dispose()');
    const { image_size: s, num_channels: c } = this.config;
    const d = tokenWidth(this.config);
    if (!Number.isInteger(n) || n < 1) throw new Error(`VitModel: batch size must be a positive integer, got ${n}`);
    const imageValues = c * s * s;
    if (pixels.length !== n * imageValues) {
      throw new Error(`VitModel: pixels has ${pixels.length} values, expected ${n} x ${c} x ${s} x ${s} = ${n * imageValues}`);
    }
    const step = params.qkvLayout === 'perHead' ? 1 : n;
    const tokens: Float32Array[] = [];
    for (let start = 0; start < n; start += step) {
      const cls = this.#forward(params, pixels.subarray(start * imageValues, (start + step) * imageValues), step);
      try {
        const flat = await cls.data<'float32'>();
        for (let i = 0; i < step; i++) tokens.push(flat.slice(i * d, (i + 1) * d));
      } finally {
        cls.dispose();
      }
    }
    return tokens;
  }

  /**
   * The forward pass for n images, returning [n, d]. Each stage runs in its own tf.tidy so that a
   * layer's intermediates are freed before the next starts: one tidy around everything keeps all
   * layers' activations alive (> 2 GB at batch 8 for ViT-B), which overruns the wasm heap.
   */
  #forward(params: Parameters, pixels: Float32Array, n: number): tf.Tensor2D {
    const { hidden_size: d, num_attention_heads: heads, layer_norm_eps: eps, patch_size: p } = this.config;
    const { image_size: s, num_channels: c, num_register_tokens: registers, pooling } = this.config;
    const patchCount = numPatches(this.config);
    const tokens = 1 + registers + patchCount;
    const shape: Shape = { n, tokens, heads, headDim: d / heads };
    let x = tf.tidy(() => {
      const images = tf.transpose(tf.tensor4d(pixels, [n, c, s, s]), [0, 2, 3, 1]);
      const patches = tf.reshape(tf.conv2d(images, params.patchKernel, p, 'valid'), [n, patchCount, d]);
      const withCls = tf.concat([tf.tile(params.clsToken, [n, 1, 1]), tf.add(patches, params.patchBias)], 1);
      let sequence: tf.Tensor3D = tf.add(withCls, params.positions);
      if (params.registerTokens) {
        // HF Dinov2WithRegisters order: position embeddings first, then registers go in after [CLS].
        const [cls, rest] = tf.split(sequence, [1, patchCount], 1) as [tf.Tensor3D, tf.Tensor3D];
        sequence = tf.concat([cls, tf.tile(params.registerTokens, [n, 1, 1]), rest], 1);
      }
      return tf.reshape(sequence, [n * tokens, d]) as tf.Tensor2D;
    });
    for (const layer of params.layers) {
      const input = x;
      try {
        x = tf.tidy(() => encoderLayer(input, layer, shape, eps));
      } finally {
        input.dispose(); // on error too: nothing of a forward pass may outlive it
      }
    }
    const hidden = x;
    try {
      return tf.tidy(() => {
        const sequence = tf.reshape(hidden, [n, tokens, d]) as tf.Tensor3D;
        const cls = (normed: tf.Tensor3D) => tf.reshape(tf.slice(normed, [0, 0, 0], [n, 1, d]), [n, d]) as tf.Tensor2D;
        if (pooling === 'cls') return layerNorm(cls(sequence), params.layerNorm, eps);
        // The mean runs over patch rows only (not [CLS], not registers), after the final LayerNorm.
        const normed = tf.reshape(layerNorm(hidden, params.layerNorm, eps), [n, tokens, d]) as tf.Tensor3D;
        const meanPatch = tf.mean(tf.slice(normed, [0, 1 + registers, 0], [n, patchCount, d]), 1) as tf.Tensor2D;
        return pooling === 'mean' ? meanPatch : tf.concat([cls(normed), meanPatch], 1);
      });
    } finally {
      hidden.dispose();
    }
  }

  /** Frees the weight tensors; the model is unusable afterwards. */
  dispose(): void {
    const params = this.#params;
    if (!params) return;
    this.#params = undefined;
    const tensors: tf.Tensor[] = [params.patchKernel, params.patchBias, params.clsToken, params.positions];
    if (params.registerTokens) tensors.push(params.registerTokens);
    const add = (...items: (Dense | LayerNormParams | { kernel: tf.Tensor; bias: tf.Tensor })[]) =>
      items.forEach((item) => tensors.push(...(Object.values(item) as tf.Tensor[])));
    add(params.layerNorm);
    for (const layer of params.layers) {
      add(layer.layerNormBefore, layer.attentionOutput, layer.layerNormAfter, layer.intermediate, layer.output);
      if (layer.gate) add(layer.gate);
      if (layer.qkv.layout === 'fused') add(layer.qkv.projection);
      else for (const head of layer.qkv.heads) add(head.query, head.value, head.keyT);
    }
    tf.dispose(tensors);
  }
}
