// Gated-attention MIL (Ilse et al. 2018, the CLAM form) over a slide's tile tokens, in tfjs:
//   h = ReLU(x W1 + b1)                    tiles x D -> tiles x H (H = 512), dropout on h while training
//   a = tanh(h Va + ba), g = sigmoid(h Ub + bb)        H -> K (K = 256), the two gated-attention branches
//   s = (a * g) wA + bA, A = softmax(s) over the slide's tiles
//   M = A^T h                              the attention-pooled slide embedding (H)
//   logits = M Wc + bc                     H -> C
// The whole model is one flat float vector (ABMIL_PARAMETERS order, matrices [in, out] row-major), which is what a
// clinic multiplies by its slide count and encrypts: FedAvg of every parameter is then the weighted aggregation of
// src/he/aggregate.ts. Local training: Adam, one slide per step, cross-entropy + weight decay, a fixed seed (slide
// order from the seeded RNG, dropout masks from tf's seeded dropout), from the decrypted global model.
import * as tf from '@tensorflow/tfjs';
import { createRng, deriveSeed } from './random.ts';

export interface AbmilShape {
  /** Token width D. */
  dim: number;
  /** Tile projection width H (512 in ABMIL/CLAM). */
  hidden: number;
  /** Attention branch width K (256). */
  attention: number;
  classes: number;
}

export const abmilShape = (dim: number, classes: number): AbmilShape => ({ dim, hidden: 512, attention: 256, classes });

type ParameterName = 'W1' | 'b1' | 'Va' | 'ba' | 'Ub' | 'bb' | 'wA' | 'bA' | 'Wc' | 'bc';
export const ABMIL_PARAMETERS: readonly ParameterName[] = ['W1', 'b1', 'Va', 'ba', 'Ub', 'bb', 'wA', 'bA', 'Wc', 'bc'];

function parameterShapes(s: AbmilShape): Record<ParameterName, number[]> {
  return {
    W1: [s.dim, s.hidden],
    b1: [s.hidden],
    Va: [s.hidden, s.attention],
    ba: [s.attention],
    Ub: [s.hidden, s.attention],
    bb: [s.attention],
    wA: [s.attention, 1],
    bA: [1],
    Wc: [s.hidden, s.classes],
    bc: [s.classes],
  };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Values in the flat model: D*H + H + 2(H*K + K) + K + 1 + H*C + C (658,180 for D = 768, C = 3). */
export function abmilParameterCount(s: AbmilShape): number {
  const shapes = parameterShapes(s);
  return ABMIL_PARAMETERS.reduce((n, name) => n + size(shapes[name]), 0);
}

/** Offsets and shapes of each parameter in the flat vector. */
export function abmilLayout(s: AbmilShape): { name: ParameterName; offset: number; shape: number[] }[] {
  const shapes = parameterShapes(s);
  let offset = 0;
  return ABMIL_PARAMETERS.map((name) => {
    const entry = { name, offset, shape: shapes[name] };
    offset += size(shapes[name]);
    return entry;
  });
}

/** Glorot-uniform matrices, zero biases (torch's xavier_uniform_ as CLAM initialises), from a seed. */
export function initAbmil(s: AbmilShape, seed: number): Float64Array {
  const rng = createRng(seed, 'abmil/init');
  const flat = new Float64Array(abmilParameterCount(s));
  for (const { offset, shape } of abmilLayout(s)) {
    if (shape.length !== 2) continue;
    const [fanIn, fanOut] = shape as [number, number];
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    for (let k = 0; k < fanIn * fanOut; k++) flat[offset + k] = (2 * rng.uniform() - 1) * bound;
  }
  return flat;
}

type Tensors = Record<ParameterName, tf.Tensor>;

function toTensors(s: AbmilShape, flat: ArrayLike<number>): Tensors {
  const out = {} as Tensors;
  for (const { name, offset, shape } of abmilLayout(s)) {
    out[name] = tf.tensor(Float32Array.from(Array.prototype.slice.call(flat, offset, offset + size(shape)) as number[]), shape);
  }
  return out;
}

function checkModel(s: AbmilShape, flat: ArrayLike<number>): void {
  const want = abmilParameterCount(s);
  if (flat.length !== want) throw new Error(`abmil: the ${s.dim}->${s.hidden}->${s.attention}->${s.classes} model has ${want} values, got ${flat.length}`);
}

function checkBag(s: AbmilShape, tiles: Float32Array, what: string): number {
  if (tiles.length === 0 || tiles.length % s.dim !== 0) throw new Error(`abmil: ${what} has ${tiles.length} values, not a positive multiple of D = ${s.dim}`);
  return tiles.length / s.dim;
}

/** Logits [C] and attention [tiles] of one bag (tensors; the caller's tidy owns them). */
function forward(p: Tensors, x: tf.Tensor2D, dropout: { rate: number; seed: number } | null): { logits: tf.Tensor1D; attention: tf.Tensor1D } {
  let h = tf.relu(tf.add(tf.matMul(x, p.W1 as tf.Tensor2D), p.b1)) as tf.Tensor2D;
  if (dropout && dropout.rate > 0) h = tf.dropout(h, dropout.rate, undefined, dropout.seed) as tf.Tensor2D;
  const a = tf.tanh(tf.add(tf.matMul(h, p.Va as tf.Tensor2D), p.ba));
  const g = tf.sigmoid(tf.add(tf.matMul(h, p.Ub as tf.Tensor2D), p.bb));
  const scores = tf.add(tf.matMul(tf.mul(a, g) as tf.Tensor2D, p.wA as tf.Tensor2D), p.bA).reshape([-1]);
  const attention = tf.softmax(scores) as tf.Tensor1D;
  const pooled = tf.matMul(attention.reshape([1, -1]), h);
  const logits = tf.add(tf.matMul(pooled, p.Wc as tf.Tensor2D), p.bc).reshape([-1]) as tf.Tensor1D;
  return { logits, attention };
}

export interface AbmilOutput {
  logits: Float32Array;
  /** Softmax of the logits. */
  probabilities: Float32Array;
  /** Attention weight of each tile (sums to 1). */
  attention: Float32Array;
}

/** Inference (no dropout) on one bag of tiles (tiles x D, row-major). */
export function abmilForward(s: AbmilShape, model: ArrayLike<number>, tiles: Float32Array): AbmilOutput {
  checkModel(s, model);
  const n = checkBag(s, tiles, 'the bag');
  return tf.tidy(() => {
    const p = toTensors(s, model);
    const { logits, attention } = forward(p, tf.tensor2d(tiles, [n, s.dim]), null);
    return { logits: logits.dataSync() as Float32Array, probabilities: tf.softmax(logits).dataSync() as Float32Array, attention: attention.dataSync() as Float32Array };
  });
}

/** Cross-entropy of one bag and its gradient with respect to every parameter (flat, ABMIL_PARAMETERS order). */
export function abmilLossAndGradient(s: AbmilShape, model: ArrayLike<number>, tiles: Float32Array, label: number): { loss: number; gradient: Float64Array } {
  checkModel(s, model);
  const n = checkBag(s, tiles, 'the bag');
  const gradient = new Float64Array(abmilParameterCount(s));
  let loss = Number.NaN;
  tf.tidy(() => {
    const p = toTensors(s, model);
    const x = tf.tensor2d(tiles, [n, s.dim]);
    const target = tf.oneHot(tf.tensor1d([label], 'int32'), s.classes).reshape([-1]);
    const names = ABMIL_PARAMETERS;
    const lossOf = (...ts: tf.Tensor[]) => {
      const q = Object.fromEntries(names.map((name, i) => [name, ts[i] as tf.Tensor])) as Tensors;
      return tf.losses.softmaxCrossEntropy(target, forward(q, x, null).logits) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(lossOf)(names.map((name) => p[name]));
    abmilLayout(s).forEach(({ offset }, i) => gradient.set((grads[i] as tf.Tensor).dataSync(), offset));
    loss = value.dataSync()[0] as number;
  });
  return { loss, gradient };
}

export interface SlideBag {
  /** tiles x D, row-major. */
  tiles: Float32Array;
  label: number;
}

export interface AbmilTraining {
  epochs: number;
  learningRate: number;
  /** Decoupled from the loss: added to the gradient as weightDecay * parameter (torch Adam's weight_decay). */
  weightDecay: number;
  /** Dropout on the tile projection h while training. */
  dropout: number;
  seed: number;
}

/** CLAM's defaults (Adam 2e-4, weight decay 1e-5, dropout 0.25), with a larger step for few-round federations. */
export const DEFAULT_ABMIL_TRAINING: Omit<AbmilTraining, 'seed'> = { epochs: 1, learningRate: 1e-3, weightDecay: 1e-5, dropout: 0.25 };

/** Variable names must be unique per tfjs engine. */
let trainingRuns = 0;

/** Trains a copy of `start` on the bags (one slide per Adam step, slides in a seeded order); returns the flat model. */
export function trainAbmil(s: AbmilShape, start: ArrayLike<number>, bags: readonly SlideBag[], opts: AbmilTraining): Float64Array {
  checkModel(s, start);
  if (bags.length === 0) throw new Error('abmil: no slides to train on');
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`abmil: epochs ${opts.epochs} must be a positive integer`);
  if (!(opts.learningRate > 0)) throw new Error(`abmil: learningRate ${opts.learningRate} must be > 0`);
  if (!(opts.dropout >= 0 && opts.dropout < 1)) throw new Error(`abmil: dropout ${opts.dropout} must be in [0, 1)`);
  bags.forEach((b, i) => checkBag(s, b.tiles, `slide ${i}`));
  const rng = createRng(opts.seed, 'abmil/order');
  const initial = toTensors(s, start);
  const run = trainingRuns++;
  const variables = ABMIL_PARAMETERS.map((name) => tf.variable(initial[name] as tf.Tensor, true, `abmil-${run}-${name}`));
  const optimizer = tf.train.adam(opts.learningRate);
  try {
    let step = 0;
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      for (const index of rng.shuffled(bags.map((_, i) => i))) {
        const bag = bags[index] as SlideBag;
        const dropoutSeed = deriveSeed(opts.seed, `abmil/dropout ${step++}`);
        tf.tidy(() => {
          const x = tf.tensor2d(bag.tiles, [bag.tiles.length / s.dim, s.dim]);
          const target = tf.oneHot(tf.tensor1d([bag.label], 'int32'), s.classes).reshape([-1]);
          const { grads } = tf.variableGrads(() => {
            const q = Object.fromEntries(ABMIL_PARAMETERS.map((name, i) => [name, variables[i] as tf.Tensor])) as Tensors;
            return tf.losses.softmaxCrossEntropy(target, forward(q, x, { rate: opts.dropout, seed: dropoutSeed }).logits) as tf.Scalar;
          }, variables);
          if (opts.weightDecay > 0) {
            for (const v of variables) grads[v.name] = tf.add(grads[v.name] as tf.Tensor, tf.mul(v, opts.weightDecay));
          }
          optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] as tf.Tensor })));
        });
      }
    }
    const out = new Float64Array(abmilParameterCount(s));
    abmilLayout(s).forEach(({ offset }, i) => out.set((variables[i] as tf.Variable).dataSync(), offset));
    return out;
  } finally {
    optimizer.dispose();
    for (const v of variables) v.dispose();
    tf.dispose(Object.values(initial));
  }
}
