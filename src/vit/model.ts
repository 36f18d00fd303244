// The ViT forward pass in tfjs, covering HF ViTModel, HF Dinov2(WithRegisters) and timm
// VisionTransformer (after checkpoint-weights.ts maps them to one layout): conv patch embedding,
// [CLS] token, learned position embeddings (CLS and patches), register tokens inserted after [CLS]
// without position embedding, pre-LayerNorm encoder blocks (multi-head self-attention, exact
// erf-GELU or SwiGLU MLP, optional LayerScale), final LayerNorm; the token is the [CLS] row, the
// mean of the patch rows, or both concatenated (config.pooling).

import * as tf from '@tensorflow/tfjs';
import { numPatches, tokenWidth } from './config.ts';
import type { VitConfig } from './config.ts';
import { type Dense, type EncoderLayer, type LayerNormParams, type Linear, ParameterAssembler, type Parameters, parameterTensors, type QkvLayout, type QkvProjection } from './model-params.ts';
import { validateVitWeights } from './weights.ts';

interface Shape {
  n: number;
  tokens: number;
  heads: number;
  headDim: number;
}

/** x times a Linear (its column blocks' products side by side) or one Dense. */
function dense(x: tf.Tensor2D, linear: Linear | Dense): tf.Tensor2D {
  const blocks = Array.isArray(linear) ? linear : [linear];
  const products = blocks.map(({ kernel, bias }) => tf.fused.matMul({ a: x, b: kernel, bias }) as tf.Tensor2D);
  return products.length === 1 ? (products[0] as tf.Tensor2D) : tf.concat(products, 1);
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
  /** Images per forward pass at most (a WebGPU buffer limit can cap the activations' size). */
  readonly maxBatch: number;
  #params: Parameters | undefined;

  private constructor(config: VitConfig, params: Parameters, maxBatch = Infinity) {
    this.config = config;
    this.#params = params;
    this.maxBatch = maxBatch;
  }

  /** The qkv layout for the active tfjs backend: per-head 2D matMuls on wasm, one fused projection elsewhere. */
  static layoutForBackend(): QkvLayout {
    return tf.getBackend() === 'wasm' ? 'perHead' : 'fused';
  }

  /**
   * Validates `weights` (canonical ViTModel names) and uploads them to the current tfjs backend
   * (choose the backend first: the attention layout depends on it).
   */
  static create(config: VitConfig, weights: ReadonlyMap<string, Float32Array>): VitModel {
    validateVitWeights(config, weights);
    const assembler = new ParameterAssembler(config, { qkvLayout: VitModel.layoutForBackend() });
    try {
      for (const [name, data] of weights) assembler.add(name, data);
      return new VitModel(config, assembler.finish());
    } catch (error) {
      assembler.dispose();
      throw error;
    }
  }

  /** A model over parameters built elsewhere (stream-load.ts builds them while the weights download). */
  static fromParameters(config: VitConfig, params: Parameters, maxBatch = Infinity): VitModel {
    return new VitModel(config, params, maxBatch);
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
    const step = params.qkvLayout === 'perHead' ? 1 : Math.min(n, this.maxBatch);
    const tokens: Float32Array[] = [];
    for (let start = 0; start < n; start += step) {
      const count = Math.min(step, n - start);
      const cls = this.#forward(params, pixels.subarray(start * imageValues, (start + count) * imageValues), count);
      try {
        const flat = await cls.data<'float32'>();
        for (let i = 0; i < count; i++) tokens.push(flat.slice(i * d, (i + 1) * d));
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
    this.#params = undefined;
    if (params) tf.dispose(parameterTensors(params));
  }
}
