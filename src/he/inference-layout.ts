// Slot layouts of encrypted linear inference (preset inf-v1), derived from the token width D and the class count C,
// and the slot vectors (input, weights, biases, mask) laid out in them. Evaluation lives in inference.ts.
//
// Slot layout (one formula for both modes). A ciphertext has S slots split as S = G * Cg * B:
//   slot(j', c, t) = j' * (Cg * B) + c * B + t
// j' < G: feature within the ciphertext (ciphertext g of a group holds features g*G + j'), c < Cg: class lane
// (the token is replicated once per class lane), t < B: token within the group.
//  - 'single' (one token per group, B = 1): G = the power of two >= D and Cg = S / G, so one ciphertext per token and
//    ceil(C / Cg) passes; for D = 768: G = 1024, Cg = 4 (10 rotations); for D = 192: G = 256, Cg = 16 (8 rotations).
//  - 'batched' (B tokens per group, Cg = 1): G = S / B features per ciphertext, ceil(D / G) ciphertexts per group;
//    for B = 256: G = 16, 48 ciphertexts per 256 tokens (the same bytes as dense packing).
// Everything follows from D (and C); for the foundation models' widths, 'single' (G, Cg, Galois steps, passes for
// C = 3) and 'batched' B = 256 (ciphertexts per group, steps 256..2048 for every D):
//   D =  384: G =  512, Cg = 8,  9 steps, 1 pass   | 24 cts      D = 1280: G = 2048, Cg = 2, 11 steps, 2 passes | 80
//   D =  768: G = 1024, Cg = 4, 10 steps, 1 pass   | 48 cts      D = 1536: G = 2048, Cg = 2, 11 steps, 2 passes | 96
//   D = 1024: G = 1024, Cg = 4, 10 steps, 1 pass   | 64 cts      D = 2560: G = 4096, Cg = 1, 12 steps, 3 passes | 160
// Evaluation, per pass over Cg classes: multiply every input ciphertext by the weights laid out the same way, add them
// up (no rotations needed across ciphertexts), rescale, then rotate-and-add by Cg*B, 2*Cg*B, ..., S/2: the rotations are
// cyclic over the whole ring, so afterwards EVERY slot holds a complete logit (class (s / B) mod Cg, token s mod B) and
// no slot holds a partial sum of weights: by default ('replicated') the client gets each logit G times and nothing
// else, and the rotations run after dropping to the last level, where one costs ~1/3 of one a level up. Optional
// output masking ('masked') then multiplies by a 0/1 plaintext that keeps only row j' = 0 (slot c * B + t), so the
// key holder decrypts exactly C logits per token and ~0 elsewhere, at the price of doing the rotations a level up.
// Scales stay exact: weights are encoded at scale q2 and the mask at q1, the primes the rescales divide out, so the
// result is at the last level with scale 2^40, where the bias is added.
import type { InferenceLayoutWire } from '../protocol/inference-model.ts';
import type { HeContext } from './context.ts';
import { HeError } from './errors.ts';
import type { LinearHead } from './head.ts';

export type InferenceMode = 'single' | 'batched';

/** The slot layout of one inference model; its wire form is the layout itself (src/protocol/inference-model.ts). */
export type InferenceLayout = InferenceLayoutWire;

export const DEFAULT_BATCH_TOKENS = 256;

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

export function inferenceLayout(
  ctx: HeContext,
  mode: InferenceMode,
  classes: number,
  dim: number,
  opts: { tokensPerGroup?: number; masked?: boolean } = {},
): InferenceLayout {
  const slotCount = ctx.slotCount;
  if (ctx.dataPrimes.length < 3) {
    throw new HeError('bad-argument', `preset ${ctx.preset.id} has no room for a product and a mask level`);
  }
  if (!Number.isInteger(classes) || classes < 1) throw new HeError('bad-argument', `classes ${classes} must be >= 1`);
  if (!Number.isInteger(dim) || dim < 1 || dim > slotCount) {
    throw new HeError('bad-argument', `dim ${dim} must be an integer in 1..${slotCount}`);
  }
  const masked = opts.masked ?? false;
  let tokensPerGroup = 1;
  let classesPerPass = 1;
  if (mode === 'single') {
    // G = next power of two >= D; the remaining factor of the slots becomes class lanes (spare lanes are free and
    // shorten the rotate-and-add: log2(G) steps, not log2(S / C)).
    let features = 1;
    while (features < dim) features *= 2;
    classesPerPass = slotCount / features;
  } else {
    tokensPerGroup = opts.tokensPerGroup ?? DEFAULT_BATCH_TOKENS;
    if (!isPowerOfTwo(tokensPerGroup) || tokensPerGroup > slotCount / 2) {
      throw new HeError('bad-argument', `tokensPerGroup ${tokensPerGroup} must be a power of two <= ${slotCount / 2}`);
    }
  }
  const featuresPerCiphertext = slotCount / (classesPerPass * tokensPerGroup);
  return {
    mode,
    classes,
    dim,
    slotCount,
    tokensPerGroup,
    classesPerPass,
    featuresPerCiphertext,
    ciphertextsPerGroup: Math.ceil(dim / featuresPerCiphertext),
    passes: Math.ceil(classes / classesPerPass),
    masked,
  };
}

/** The rotation steps the layout needs, and nothing else: Cg*B * 2^i for i < log2(G). */
export function galoisSteps(layout: InferenceLayout): number[] {
  const steps: number[] = [];
  for (let s = layout.classesPerPass * layout.tokensPerGroup; s < layout.slotCount; s *= 2) steps.push(s);
  return steps;
}

export function slotIndex(layout: InferenceLayout, feature: number, lane: number, token: number): number {
  return feature * layout.classesPerPass * layout.tokensPerGroup + lane * layout.tokensPerGroup + token;
}

export function checkLayout(ctx: HeContext, layout: InferenceLayout): void {
  if (layout.slotCount !== ctx.slotCount) {
    throw new HeError('mismatch', `layout is for ${layout.slotCount} slots, preset ${ctx.preset.id} has ${ctx.slotCount}`);
  }
}

/** Weight slots of pass p, input ciphertext g. */
export function weightSlots(layout: InferenceLayout, head: LinearHead, p: number, g: number): Float64Array {
  const slots = new Float64Array(layout.slotCount);
  const G = layout.featuresPerCiphertext;
  for (let f = 0; f < G && g * G + f < layout.dim; f++) {
    for (let lane = 0; lane < layout.classesPerPass; lane++) {
      const cls = p * layout.classesPerPass + lane;
      if (cls >= layout.classes) break;
      const w = head.weights[cls * layout.dim + g * G + f] as number;
      for (let t = 0; t < layout.tokensPerGroup; t++) slots[slotIndex(layout, f, lane, t)] = w;
    }
  }
  return slots;
}

/** Bias slots of pass p: the logit row only when masked, every replica otherwise. */
export function biasSlots(layout: InferenceLayout, biases: ArrayLike<number>, p: number): Float64Array {
  const slots = new Float64Array(layout.slotCount);
  const rows = layout.masked ? 1 : layout.featuresPerCiphertext;
  for (let f = 0; f < rows; f++) {
    for (let lane = 0; lane < layout.classesPerPass; lane++) {
      const cls = p * layout.classesPerPass + lane;
      if (cls >= layout.classes) break;
      for (let t = 0; t < layout.tokensPerGroup; t++) slots[slotIndex(layout, f, lane, t)] = biases[cls] as number;
    }
  }
  return slots;
}

export function maskSlots(layout: InferenceLayout): Float64Array {
  const slots = new Float64Array(layout.slotCount);
  slots.fill(1, 0, layout.classesPerPass * layout.tokensPerGroup);
  return slots;
}

