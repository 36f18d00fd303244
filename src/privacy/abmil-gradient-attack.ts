// What a clear ABMIL update gives away (issue 15, point 5): the tile tokens of the slide it was computed on.
// ABMIL's first layer is h = ReLU(x W1 + b1) over every tile x of the slide, so the shared gradient of one slide is
//   dL/dW1[:, k] = Σ_t x_t δ_tk,   dL/db1[k] = Σ_t δ_tk          (δ_tk = 0 where unit k is inactive for tile t).
// For a unit k that only one tile t switches on, the ratio dL/dW1[:, k] / dL/db1[k] is x_t exactly ("robbing the
// fed"-style disaggregation, needing no optimisation). Units several tiles switch on give mixtures instead; the
// attacker tells the two apart without knowing any token, because a [CLS] token leaves the encoder through its final
// LayerNorm (the model is public): (x − β) / γ has mean 0 and variance 1 over its values, which a mixture of
// different tokens does not. Recovered tokens then go to the insider's token→tile decoder (image-decoder.ts).
//
// This is the attacker's best case: the update is one slide's gradient (FedSGD, or a local round of one SGD step).
// The cipherpath abmil strategy shares the model after local Adam steps, whose first step is close to the sign of
// the gradient, which this closed form cannot invert; that is not a protection (other attacks exist), CKKS is.
import { abmilLayout, type AbmilShape } from '../fl/abmil.ts';

/** The encoder's final LayerNorm (HF ViT/Dinov2 `layernorm.*`, timm `norm.*`): tokens are γ·z + β with z standardised. */
export interface FinalNorm {
  gamma: Float32Array;
  beta: Float32Array;
}

export interface RecoveredToken {
  token: Float32Array;
  /** The units of W1 whose ratio gave this token (one tile switched them on alone). */
  units: number[];
}

export interface TokenRecoveryOptions {
  /** How close to mean 0 / variance 1 a standardised ratio must be to count as one tile's token. */
  normTolerance?: number;
  /** Relative distance under which two ratios are the same token. */
  sameTokenTolerance?: number;
}

/** Tokens recovered from one slide's gradient (flat, ABMIL_PARAMETERS order), each once. */
export function recoverTokensFromAbmilGradient(shape: AbmilShape, gradient: ArrayLike<number>, norm: FinalNorm, options: TokenRecoveryOptions = {}): RecoveredToken[] {
  const { normTolerance = 1e-3, sameTokenTolerance = 1e-4 } = options;
  const { dim, hidden } = shape;
  if (norm.gamma.length !== dim || norm.beta.length !== dim) throw new Error(`recoverTokensFromAbmilGradient: the final norm has ${norm.gamma.length} values, the tokens ${dim}`);
  const layout = new Map(abmilLayout(shape).map((l) => [l.name, l.offset]));
  const w1 = layout.get('W1')!;
  const b1 = layout.get('b1')!;
  const recovered: RecoveredToken[] = [];
  for (let k = 0; k < hidden; k++) {
    const db = gradient[b1 + k]!;
    if (db === 0) continue;
    const ratio = new Float32Array(dim);
    // W1 is [dim, hidden] row-major: column k holds unit k's weights.
    for (let d = 0; d < dim; d++) ratio[d] = gradient[w1 + d * hidden + k]! / db;
    if (!looksLikeOneToken(ratio, norm, normTolerance)) continue;
    const same = recovered.find((r) => relativeDistance(ratio, r.token) < sameTokenTolerance);
    if (same) same.units.push(k);
    else recovered.push({ token: ratio, units: [k] });
  }
  return recovered;
}

function looksLikeOneToken(x: Float32Array, { gamma, beta }: FinalNorm, tolerance: number): boolean {
  let sum = 0;
  let squares = 0;
  for (let d = 0; d < x.length; d++) {
    const z = (x[d]! - beta[d]!) / gamma[d]!;
    sum += z;
    squares += z * z;
  }
  const mean = sum / x.length;
  return Math.abs(mean) < tolerance && Math.abs(squares / x.length - mean * mean - 1) < tolerance;
}

/** ‖a − b‖ / ‖b‖. */
export function relativeDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let error = 0;
  let size = 0;
  for (let d = 0; d < b.length; d++) {
    error += (a[d]! - b[d]!) ** 2;
    size += b[d]! ** 2;
  }
  return Math.sqrt(error / size);
}
