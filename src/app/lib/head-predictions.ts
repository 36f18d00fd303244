// Predictions of a linear head in this browser, in float64: the class and softmax confidence of a token (or of logits
// decrypted from the coordinator's encrypted inference), accuracy on labelled tokens, and how far two heads are apart.
import type { LinearHead } from '../../he/head.ts';
import { CLASS_LABELS, type ClassLabel } from '../../protocol/vocabulary.ts';

export interface LabelledTokens {
  tokens: readonly Float32Array[];
  labels: readonly ClassLabel[];
}

export interface Prediction {
  label: ClassLabel;
  /** Softmax probability of the predicted class. */
  confidence: number;
  logits: number[];
}

export function predict(head: LinearHead, token: Float32Array | Float64Array): Prediction {
  if (token.length !== head.dim) throw new Error(`the model expects ${head.dim}-dimensional tokens, this tile has ${token.length}`);
  const logits = Array.from({ length: head.classes }, (_, c) => {
    let s = head.biases[c] as number;
    for (let j = 0; j < head.dim; j++) s += (head.weights[c * head.dim + j] as number) * (token[j] as number);
    return s;
  });
  return predictionFromLogits(logits);
}

/** Class and softmax confidence from logits (decrypted ones from the coordinator, or local ones). */
export function predictionFromLogits(logits: number[]): Prediction {
  const best = logits.indexOf(Math.max(...logits));
  const max = logits[best] as number;
  const exps = logits.map((l) => Math.exp(l - max));
  return { label: CLASS_LABELS[best] as ClassLabel, confidence: 1 / exps.reduce((a, b) => a + b, 0), logits };
}

export function accuracyOn(head: LinearHead, data: LabelledTokens): number {
  let hits = 0;
  data.tokens.forEach((t, i) => {
    if (predict(head, t).label === data.labels[i]) hits++;
  });
  return data.tokens.length ? hits / data.tokens.length : NaN;
}

/** Largest |a_k - b_k| over two heads' weights (how far two decryptions or two domains are apart). */
export function maxWeightDifference(a: LinearHead, b: LinearHead): number {
  let m = 0;
  for (let k = 0; k < a.weights.length; k++) m = Math.max(m, Math.abs((a.weights[k] as number) - (b.weights[k] as number)));
  return m;
}
