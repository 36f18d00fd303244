// The clinic's local model: a softmax-regression head (C classes x D features + C biases) on cached [CLS] tokens,
// trained with tfjs on whatever backend is active (the browser picks WebGPU first, Node runs tfjs-backend-wasm).
// Training is deterministic for a seed: the mini-batch order comes from the seeded RNG and every backend kernel used
// here is deterministic within one backend. Prediction and accuracy are plain TS in float64, so the federation's
// domains are compared on exactly the same arithmetic.
import * as tf from '@tensorflow/tfjs';
import { checkHead } from '../he/head.ts';
import type { LinearHead } from '../he/head.ts';
import type { TokenSet } from './dataset.ts';
import { createRng } from './random.ts';

export interface LocalTrainingOptions {
  /** Passes over the local training tokens per round. */
  epochs: number;
  batchSize: number;
  /** Adam step size (Adam's moments restart every round, as each round starts from the new global head). */
  learningRate: number;
  /** L2 penalty on the weights (not the biases), added to the mean cross-entropy as l2/2 * ||W||^2. */
  l2: number;
  seed: number;
}

/** A training run's controls: cancel between mini-batches, and hear of each finished epoch. */
export interface TrainingRun {
  /** Checked between mini-batches; an abort throws an AbortError naming the epoch and batch it stopped at. */
  signal?: AbortSignal | undefined;
  /** Called after each epoch with the number of epochs done (1-based). */
  onEpoch?: ((epochsDone: number) => void) | undefined;
}

/** trainHead's shape, so a caller can run it elsewhere (the browser trains in a worker over src/rpc). */
export type HeadTrainer = (start: LinearHead, data: TokenSet, opts: LocalTrainingOptions, run?: TrainingRun) => Promise<LinearHead>;

/**
 * With a signal, training gives the event loop a turn at least this often (ms), so a cancel message that arrived
 * meanwhile is seen before the next mini-batch; training is one synchronous loop otherwise.
 */
const CANCEL_CHECK_MS = 25;

export const DEFAULT_LOCAL_TRAINING: Omit<LocalTrainingOptions, 'seed'> = {
  epochs: 2,
  batchSize: 32,
  learningRate: 2e-3,
  l2: 1e-3,
};

export function zeroHead(classes: number, dim: number): LinearHead {
  return { classes, dim, weights: new Float64Array(classes * dim), biases: new Float64Array(classes) };
}

function checkTraining(opts: LocalTrainingOptions): void {
  for (const [name, v] of [['epochs', opts.epochs], ['batchSize', opts.batchSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`local training: ${name} ${v} must be a positive integer`);
  }
  if (!(opts.learningRate > 0)) throw new Error(`local training: learningRate ${opts.learningRate} must be > 0`);
  if (!(opts.l2 >= 0)) throw new Error(`local training: l2 ${opts.l2} must be >= 0`);
}

/** Trains a copy of `start` on `data`; `start` is not modified. The run's signal and epoch events do not change the result. */
export async function trainHead(start: LinearHead, data: TokenSet, opts: LocalTrainingOptions, run: TrainingRun = {}): Promise<LinearHead> {
  checkHead(start);
  checkTraining(opts);
  if (start.dim !== data.dim || start.classes !== data.classes) {
    throw new Error(`local training: head is ${start.classes}x${start.dim}, tokens are ${data.classes} classes x ${data.dim}`);
  }
  if (data.count === 0) throw new Error('local training: no tokens to train on');
  const { classes, dim } = start;
  const rng = createRng(opts.seed, 'local-training');
  const x = tf.tensor2d(data.tokens, [data.count, dim]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(data.labels, 'int32'), classes).toFloat());
  // tf.variable() keeps the initial tensor registered too, so tidy() must own it.
  const w = tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from(start.weights), [classes, dim])));
  const b = tf.tidy(() => tf.variable(tf.tensor1d(Float32Array.from(start.biases))));
  const optimizer = tf.train.adam(opts.learningRate);
  try {
    const all = Array.from({ length: data.count }, (_, i) => i);
    const batches = Math.ceil(data.count / opts.batchSize);
    let turnAt = performance.now();
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = rng.shuffled(all);
      for (let at = 0; at < order.length; at += opts.batchSize) {
        if (run.signal) {
          if (performance.now() - turnAt >= CANCEL_CHECK_MS) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            turnAt = performance.now();
          }
          if (run.signal.aborted) {
            throw new DOMException(`local training cancelled in epoch ${epoch + 1} of ${opts.epochs}, before batch ${at / opts.batchSize + 1} of ${batches}`, 'AbortError');
          }
        }
        const batch = order.slice(at, at + opts.batchSize);
        tf.tidy(() => {
          const index = tf.tensor1d(batch, 'int32');
          const xb = tf.gather(x, index);
          const yb = tf.gather(y, index);
          optimizer.minimize(() => {
            const logits = tf.add(tf.matMul(xb, w, false, true), b);
            const penalty = tf.mul(opts.l2 / 2, tf.sum(tf.square(w)));
            return tf.add(tf.losses.softmaxCrossEntropy(yb, logits), penalty) as tf.Scalar;
          }, false, [w, b]);
        });
      }
      run.onEpoch?.(epoch + 1);
    }
    return { classes, dim, weights: Float64Array.from(await w.data()), biases: Float64Array.from(await b.data()) };
  } finally {
    optimizer.dispose();
    for (const t of [x, y, w, b]) t.dispose();
  }
}

/** argmax of head(x) for each token, in float64 (ties go to the lower class). */
export function predictClasses(head: LinearHead, set: TokenSet): Int32Array {
  checkHead(head);
  if (head.dim !== set.dim) throw new Error(`predict: head has dim ${head.dim}, tokens have dim ${set.dim}`);
  const out = new Int32Array(set.count);
  const { classes, dim, weights, biases } = head;
  for (let t = 0; t < set.count; t++) {
    let best = 0;
    let bestLogit = -Infinity;
    const offset = t * dim;
    for (let c = 0; c < classes; c++) {
      let s = biases[c] as number;
      const row = c * dim;
      for (let j = 0; j < dim; j++) s += (weights[row + j] as number) * (set.tokens[offset + j] as number);
      if (s > bestLogit) {
        bestLogit = s;
        best = c;
      }
    }
    out[t] = best;
  }
  return out;
}

/** Fraction of `predictions` equal to `labels`. */
export function accuracyOf(predictions: Int32Array, labels: Int32Array): number {
  if (predictions.length !== labels.length) throw new Error(`accuracy: ${predictions.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) throw new Error('accuracy: no labels');
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) hits++;
  return hits / labels.length;
}

export function accuracy(head: LinearHead, set: TokenSet): number {
  return accuracyOf(predictClasses(head, set), set.labels);
}
