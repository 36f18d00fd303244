// The federation's classifier in the browser, with src/fl's `prototypes` strategy: each clinic contributes its
// per-class token sums and counts, the coordinator adds the CKKS ciphertexts, and every clinic decrypts the same sum
// and turns it into the same nearest-class-mean head. The round itself (encrypt, upload, wait, verify, decrypt) is
// src/fl's RoundClient (lib/round-client.ts binds it to this browser).
import type { LinearHead } from '../../he/head.ts';
import type { AggregationRound } from '../../he/aggregate.ts';
import { CLASS_LABELS, type ClassLabel } from '../../protocol/vocabulary.ts';

/**
 * Public round bounds, identical at every clinic (the CKKS scale is derived from them). VIT_TOKEN_LIMIT bounds |value|
 * of a real ViT [CLS] token (after the final LayerNorm); src/fl's TOKEN_LIMIT (10) is the simulator's synthetic
 * tokens' clip and the strategies' default, a different bound.
 */
export const VIT_TOKEN_LIMIT = 16;
export const MAX_TILES_PER_CLINIC = 2000;
export const MAX_CLINICS_PER_ROUND = 100;
/** The round bounds of prototypes (and of 'sum', whose entries are token sums under the same limit). */
export const PROTOTYPE_BOUNDS: Required<AggregationRound> = { clinicCount: MAX_CLINICS_PER_ROUND, maxCount: 1, maxAbsValue: VIT_TOKEN_LIMIT * MAX_TILES_PER_CLINIC };

// src/fl pulls the HE core's error types (and so node-seal's glue) in; loading it on demand keeps the first page light.
const strategy = async () => {
  const [{ Prototypes }, { tokenSet }] = await Promise.all([import('../../fl/strategies/prototypes.ts'), import('../../fl/dataset.ts')]);
  return { prototypes: new Prototypes({ maxCount: MAX_TILES_PER_CLINIC, tokenLimit: VIT_TOKEN_LIMIT }), tokenSet };
};

export interface LabelledTokens {
  tokens: readonly Float32Array[];
  labels: readonly ClassLabel[];
}

export async function prototypeContribution(data: LabelledTokens): Promise<Float64Array> {
  const dim = data.tokens[0]?.length ?? 0;
  if (dim === 0) throw new Error('no labelled tiles with tokens to contribute');
  if (data.tokens.length > MAX_TILES_PER_CLINIC) throw new Error(`${data.tokens.length} labelled tiles; a round takes at most ${MAX_TILES_PER_CLINIC} per clinic`);
  const flat = new Float32Array(data.tokens.length * dim);
  data.tokens.forEach((t, i) => flat.set(t, i * dim));
  const { prototypes, tokenSet } = await strategy();
  const train = tokenSet(dim, CLASS_LABELS.length, flat, Int32Array.from(data.labels, (l) => CLASS_LABELS.indexOf(l)));
  return prototypes.contribute({ index: 0, train, validation: train });
}

export async function headFromSum(sum: Float64Array, dim: number): Promise<LinearHead> {
  const { prototypes } = await strategy();
  return prototypes.combine(sum, { classes: CLASS_LABELS.length, dim, weights: new Float64Array(0), biases: new Float64Array(0) });
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
