// The Hugging Face ViTModel forward pass in tfjs: conv patch embedding, [CLS] token, learned
// position embeddings, pre-LayerNorm encoder blocks (multi-head self-attention, exact erf-GELU MLP),
// final LayerNorm; the output is the last hidden state at token 0.

import * as tf from '@tensorflow/tfjs';
import { numPatches } from './config.ts';
import type { VitConfig } from './config.ts';
import { validateVitWeights } from './weights.ts';

interface EncoderLayer {
  ln1Gamma: tf.Tensor1D;
  ln1Beta: tf.Tensor1D;
  /** [D, 3D]: query (pre-scaled by 1/sqrt(head dim)), key and value projections side by side. */
  qkvKernel: tf.Tensor2D;
  qkvBias: tf.Tensor1D;
  outKernel: tf.Tensor2D;
  outBias: tf.Tensor1D;
  ln2Gamma: tf.Tensor1D;
  ln2Beta: tf.Tensor1D;
  fc1Kernel: tf.Tensor2D;
  fc1Bias: tf.Tensor1D;
  fc2Kernel: tf.Tensor2D;
  fc2Bias: tf.Tensor1D;
}

interface Parameters {
  /** [P, P, C, D] for tf.conv2d on NHWC input. */
  patchKernel: tf.Tensor4D;
  patchBias: tf.Tensor1D;
  clsToken: tf.Tensor3D;
  positions: tf.Tensor3D;
  layers: EncoderLayer[];
  lnGamma: tf.Tensor1D;
  lnBeta: tf.Tensor1D;
}

function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** Exact GELU, HF's "gelu": x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
function gelu(x: tf.Tensor): tf.Tensor2D {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

export class VitModel {
  readonly config: VitConfig;
  #params: Parameters | undefined;

  private constructor(config: VitConfig, params: Parameters) {
    this.config = config;
    this.#params = params;
  }

  /** Validates `weights` (canonical ViTModel names) and uploads them to the current tfjs backend. */
  static create(config: VitConfig, weights: ReadonlyMap<string, Float32Array>): VitModel {
    validateVitWeights(config, weights);
    const d = config.hidden_size;
    const inner = config.intermediate_size;
    const p = config.patch_size;
    const get = (name: string) => weights.get(name) as Float32Array;
    // HF Linear stores [out, in]; tfjs matMul wants [in, out].
    const kernel = (name: string, out: number, fanIn: number, scale = 1) =>
      tf.tidy(() => tf.transpose(tf.mul(tf.tensor2d(get(name), [out, fanIn]), scale)) as tf.Tensor2D);
    const vector = (name: string) => tf.tensor1d(get(name));
    const queryScale = 1 / Math.sqrt(d / config.num_attention_heads);
    const layers: EncoderLayer[] = [];
    for (let i = 0; i < config.num_hidden_layers; i++) {
      const name = (suffix: string) => `encoder.layer.${i}.${suffix}`;
      const qkvBias = (projection: string, scale: number) =>
        config.qkv_bias ? tf.mul(vector(name(`attention.attention.${projection}.bias`)), scale) : tf.zeros([d]);
      layers.push({
        ln1Gamma: vector(name('layernorm_before.weight')),
        ln1Beta: vector(name('layernorm_before.bias')),
        qkvKernel: tf.tidy(() =>
          tf.concat(
            [
              kernel(name('attention.attention.query.weight'), d, d, queryScale),
              kernel(name('attention.attention.key.weight'), d, d),
              kernel(name('attention.attention.value.weight'), d, d),
            ],
            1,
          ),
        ),
        qkvBias: tf.tidy(() => tf.concat([qkvBias('query', queryScale), qkvBias('key', 1), qkvBias('value', 1)]) as tf.Tensor1D),
        outKernel: kernel(name('attention.output.dense.weight'), d, d),
        outBias: vector(name('attention.output.dense.bias')),
        ln2Gamma: vector(name('layernorm_after.weight')),
        ln2Beta: vector(name('layernorm_after.bias')),
        fc1Kernel: kernel(name('intermediate.dense.weight'), inner, d),
        fc1Bias: vector(name('intermediate.dense.bias')),
        fc2Kernel: kernel(name('output.dense.weight'), d, inner),
        fc2Bias: vector(name('output.dense.bias')),
      });
    }
    const params: Parameters = {
      patchKernel: tf.tidy(() =>
        tf.transpose(tf.tensor4d(get('embeddings.patch_embeddings.projection.weight'), [d, config.num_channels, p, p]), [2, 3, 1, 0]),
      ),
      patchBias: vector('embeddings.patch_embeddings.projection.bias'),
      clsToken: tf.tensor3d(get('embeddings.cls_token'), [1, 1, d]),
      positions: tf.tensor3d(get('embeddings.position_embeddings'), [1, numPatches(config) + 1, d]),
      layers,
      lnGamma: vector('layernorm.weight'),
      lnBeta: vector('layernorm.bias'),
    };
    return new VitModel(config, params);
  }

  /**
   * [CLS] tokens for `n` preprocessed images (`pixels` is N x C x S x S, as preprocessRgba makes
   * them). Returns one hidden_size vector per image, each in its own buffer (transferable);
   * every intermediate tensor is disposed.
   */
  async embedBatch(pixels: Float32Array, n: number): Promise<Float32Array[]> {
    const params = this.#params;
    if (!params) throw new Error('VitModel: embedBatch called after dispose()');
    const { image_size: s, num_channels: c, hidden_size: d } = this.config;
    if (!Number.isInteger(n) || n < 1) throw new Error(`VitModel: batch size must be a positive integer, got ${n}`);
    if (pixels.length !== n * c * s * s) {
      throw new Error(`VitModel: pixels has ${pixels.length} values, expected ${n} x ${c} x ${s} x ${s} = ${n * c * s * s}`);
    }
    const cls = tf.tidy(() => this.#forward(params, tf.tensor4d(pixels, [n, c, s, s])));
    try {
      const flat = await cls.data<'float32'>();
      return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
    } finally {
      cls.dispose();
    }
  }

  #forward(params: Parameters, images: tf.Tensor4D): tf.Tensor2D {
    const { hidden_size: d, num_attention_heads: heads, layer_norm_eps: eps, patch_size: p } = this.config;
    const n = images.shape[0];
    const tokens = numPatches(this.config) + 1;
    const headDim = d / heads;
    const patches = tf.conv2d(tf.transpose(images, [0, 2, 3, 1]), params.patchKernel, p, 'valid');
    const patchTokens = tf.add(tf.reshape(patches, [n, tokens - 1, d]), params.patchBias);
    const withCls = tf.concat([tf.tile(params.clsToken, [n, 1, 1]), patchTokens], 1);
    let x = tf.reshape(tf.add(withCls, params.positions), [n * tokens, d]) as tf.Tensor2D;
    const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [n, tokens, heads, headDim]), [0, 2, 1, 3]);
    for (const layer of params.layers) {
      const h = layerNorm(x, layer.ln1Gamma, layer.ln1Beta, eps);
      const qkv = tf.fused.matMul({ a: h, b: layer.qkvKernel, bias: layer.qkvBias });
      const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const probs = tf.softmax(tf.matMul(toHeads(q), toHeads(k), false, true));
      const context = tf.reshape(tf.transpose(tf.matMul(probs, toHeads(v)), [0, 2, 1, 3]), [n * tokens, d]);
      x = tf.add(x, tf.fused.matMul({ a: context as tf.Tensor2D, b: layer.outKernel, bias: layer.outBias })) as tf.Tensor2D;
      const h2 = layerNorm(x, layer.ln2Gamma, layer.ln2Beta, eps);
      const mlp = gelu(tf.fused.matMul({ a: h2, b: layer.fc1Kernel, bias: layer.fc1Bias }));
      x = tf.add(x, tf.fused.matMul({ a: mlp, b: layer.fc2Kernel, bias: layer.fc2Bias })) as tf.Tensor2D;
    }
    const cls: tf.Tensor2D = tf.reshape(tf.slice(tf.reshape(x, [n, tokens, d]), [0, 0, 0], [n, 1, d]), [n, d]);
    return layerNorm(cls, params.lnGamma, params.lnBeta, eps);
  }

  /** Frees the weight tensors; the model is unusable afterwards. */
  dispose(): void {
    const params = this.#params;
    if (!params) return;
    this.#params = undefined;
    const { layers, ...top } = params;
    tf.dispose([...Object.values(top), ...layers.flatMap((layer) => Object.values(layer) as tf.Tensor[])]);
  }
}
