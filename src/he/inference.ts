// Encrypted linear inference of a C x D head on encrypted tokens (preset inf-v1), head in clear or encrypted: key
// generation, input and head encryption, the coordinator's evaluation, decryption. The slot layout (one formula for
// every token width D and class count C, with its Galois steps) is in inference-layout.ts.
import type { Ciphertext, HeContext, Plaintext, SecretKeyRef } from './context.ts';
import { HeError, heTry, toHeError } from './errors.ts';
import { checkHead } from './head.ts';
import type { LinearHead } from './head.ts';
import { biasSlots, checkLayout, galoisSteps, maskSlots, slotIndex, weightSlots } from './inference-layout.ts';
import type { InferenceLayout } from './inference-layout.ts';
import { Scope, withScope } from './scope.ts';
import { encryptSlots, decryptSlots, maxSlotMagnitude } from './tokens.ts';

export { DEFAULT_BATCH_TOKENS, galoisSteps, inferenceLayout } from './inference-layout.ts';
export type { InferenceLayout, InferenceMode } from './inference-layout.ts';

/** Key holder: Galois keys for exactly the steps of `layouts` (+ relinearization keys for an encrypted head). */
export function generateInferenceKeys(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  federationId: string,
  layouts: readonly InferenceLayout[],
  opts: { relin: boolean },
): { galoisKeys: Uint8Array; relinKeys?: Uint8Array } {
  const session = ctx.keySession(secretKey, federationId);
  const steps = [...new Set(layouts.flatMap(galoisSteps))].sort((a, b) => a - b);
  return withScope((scope) => {
    const galois = scope.track(
      heTry('creating Galois keys', () =>
        session.keyGenerator.createGaloisKeysSerializableWithSteps(Int32Array.from(steps)),
      ),
    );
    const galoisKeys = ctx.toEnvelope('galois-keys', federationId, galois);
    if (!opts.relin) return { galoisKeys };
    const relin = scope.track(heTry('creating relinearization keys', () => session.keyGenerator.createRelinKeysSerializable()));
    return { galoisKeys, relinKeys: ctx.toEnvelope('relin-keys', federationId, relin) };
  });
}

/** Client: encrypts tokens in `layout`; one array of ciphertextsPerGroup envelopes per group of B tokens. */
export function encryptInferenceInput(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  federationId: string,
  tokens: readonly (Float32Array | Float64Array)[],
  layout: InferenceLayout,
): Uint8Array[][] {
  checkLayout(ctx, layout);
  const limit = maxSlotMagnitude(ctx);
  tokens.forEach((token, i) => {
    if (token.length !== layout.dim) {
      throw new HeError('bad-argument', `token ${i} has ${token.length} values, the layout expects ${layout.dim}`);
    }
    if (!token.every((v) => Math.abs(v) <= limit)) {
      throw new HeError('out-of-range', `token ${i} has a value outside |value| <= ${limit}`);
    }
  });
  const groups: Uint8Array[][] = [];
  const B = layout.tokensPerGroup;
  const G = layout.featuresPerCiphertext;
  for (let start = 0; start < tokens.length; start += B) {
    const group = tokens.slice(start, start + B);
    const cts: Uint8Array[] = [];
    for (let g = 0; g < layout.ciphertextsPerGroup; g++) {
      const slots = new Float64Array(layout.slotCount);
      for (let f = 0; f < G && g * G + f < layout.dim; f++) {
        group.forEach((token, t) => {
          const v = token[g * G + f] as number;
          for (let lane = 0; lane < layout.classesPerPass; lane++) slots[slotIndex(layout, f, lane, t)] = v;
        });
      }
      cts.push(encryptSlots(ctx, secretKey, federationId, slots));
    }
    groups.push(cts);
  }
  return groups;
}

/** Key holder (ciphertext x ciphertext mode): the head encrypted in `layout`. */
export function encryptHeadForInference(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  federationId: string,
  head: LinearHead,
  layout: InferenceLayout,
): { weights: Uint8Array[][]; biases: Uint8Array[] } {
  checkLayout(ctx, layout);
  checkHead(head);
  const weightScale = Number(ctx.dataPrimes[2]);
  const weights: Uint8Array[][] = [];
  const biases: Uint8Array[] = [];
  for (let p = 0; p < layout.passes; p++) {
    const pass: Uint8Array[] = [];
    for (let g = 0; g < layout.ciphertextsPerGroup; g++) {
      pass.push(encryptSlots(ctx, secretKey, federationId, weightSlots(layout, head, p, g), weightScale));
    }
    weights.push(pass);
    biases.push(encryptSlots(ctx, secretKey, federationId, biasSlots(layout, head.biases, p)));
  }
  return { weights, biases };
}

function encodeAt(ctx: HeContext, scope: Scope, values: Float64Array, scale: number, levelsDown: number): Plaintext {
  const plain = scope.track(new ctx.seal.Plaintext());
  heTry('encoding a head plaintext', () => ctx.encoder.encode(values, scale, plain));
  for (let i = 0; i < levelsDown; i++) ctx.evaluator.plainModSwitchToNextInplace(plain);
  return plain;
}

/**
 * Coordinator: the head ready for evaluation in one layout, in clear (encoded plaintexts) or encrypted (loaded
 * ciphertexts). Holds SEAL objects: dispose() when the head changes.
 */
export class PreparedHead {
  readonly layout: InferenceLayout;
  readonly encrypted: boolean;
  readonly #scope: Scope;
  readonly #weights: (Plaintext | Ciphertext)[][];
  readonly #biases: (Plaintext | Ciphertext)[];
  readonly #mask: Plaintext | undefined;

  private constructor(
    layout: InferenceLayout,
    scope: Scope,
    weights: (Plaintext | Ciphertext)[][],
    biases: (Plaintext | Ciphertext)[],
    mask: Plaintext | undefined,
    encrypted: boolean,
  ) {
    this.layout = layout;
    this.#scope = scope;
    this.#weights = weights;
    this.#biases = biases;
    this.#mask = mask;
    this.encrypted = encrypted;
  }

  static #build(
    ctx: HeContext,
    layout: InferenceLayout,
    encrypted: boolean,
    fill: (scope: Scope) => { weights: (Plaintext | Ciphertext)[][]; biases: (Plaintext | Ciphertext)[] },
  ): PreparedHead {
    checkLayout(ctx, layout);
    const scope = new Scope();
    try {
      const { weights, biases } = fill(scope);
      const mask = layout.masked ? encodeAt(ctx, scope, maskSlots(layout), Number(ctx.dataPrimes[1]), 1) : undefined;
      return new PreparedHead(layout, scope, weights, biases, mask, encrypted);
    } catch (e) {
      scope.dispose();
      throw toHeError(e, 'preparing the head');
    }
  }

  /** Head in clear: weights encoded at scale q2 (first level), biases at 2^40 on the last level. */
  static plain(ctx: HeContext, head: LinearHead, layout: InferenceLayout): PreparedHead {
    checkHead(head);
    if (head.classes !== layout.classes || head.dim !== layout.dim) {
      throw new HeError('mismatch', `head is ${head.classes}x${head.dim}, layout is ${layout.classes}x${layout.dim}`);
    }
    const weightScale = Number(ctx.dataPrimes[2]);
    return PreparedHead.#build(ctx, layout, false, (scope) => ({
      weights: Array.from({ length: layout.passes }, (_, p) =>
        Array.from({ length: layout.ciphertextsPerGroup }, (_, g) =>
          encodeAt(ctx, scope, weightSlots(layout, head, p, g), weightScale, 0),
        ),
      ),
      biases: Array.from({ length: layout.passes }, (_, p) =>
        encodeAt(ctx, scope, biasSlots(layout, head.biases, p), ctx.scale, 2),
      ),
    }));
  }

  /** Head encrypted by a key holder with encryptHeadForInference. */
  static encrypted(
    ctx: HeContext,
    federationId: string,
    head: { weights: readonly (readonly Uint8Array[])[]; biases: readonly Uint8Array[] },
    layout: InferenceLayout,
  ): PreparedHead {
    if (head.weights.length !== layout.passes || head.biases.length !== layout.passes) {
      throw new HeError('mismatch', `encrypted head has ${head.weights.length} passes, layout needs ${layout.passes}`);
    }
    return PreparedHead.#build(ctx, layout, true, (scope) => ({
      weights: head.weights.map((pass, p) => {
        if (pass.length !== layout.ciphertextsPerGroup) {
          throw new HeError('mismatch', `encrypted head pass ${p} has ${pass.length} ciphertexts, layout needs ${layout.ciphertextsPerGroup}`);
        }
        return pass.map((bytes, g) => scope.track(ctx.loadCiphertext(bytes, federationId, `head pass ${p} weights ${g}`)));
      }),
      biases: head.biases.map((bytes, p) => {
        const ct = scope.track(ctx.loadCiphertext(bytes, federationId, `head pass ${p} biases`));
        heTry('lowering the bias ciphertext', () => {
          ctx.evaluator.cipherModSwitchToNextInplace(ct);
          ctx.evaluator.cipherModSwitchToNextInplace(ct);
        });
        return ct;
      }),
    }));
  }

  weights(p: number, g: number): Plaintext | Ciphertext {
    return this.#weights[p]?.[g] as Plaintext | Ciphertext;
  }

  bias(p: number): Plaintext | Ciphertext {
    return this.#biases[p] as Plaintext | Ciphertext;
  }

  get mask(): Plaintext | undefined {
    return this.#mask;
  }

  dispose(): void {
    this.#scope.dispose();
  }
}

/** Coordinator: evaluation keys uploaded by the key holder, loaded once. */
export class InferenceKeys {
  readonly #scope: Scope;
  readonly galois: InstanceType<HeContext['seal']['GaloisKeys']>;
  readonly relin: InstanceType<HeContext['seal']['RelinKeys']> | undefined;
  readonly #polyModulusDegree: number;

  private constructor(ctx: HeContext, federationId: string, galoisKeys: Uint8Array, relinKeys: Uint8Array | undefined) {
    this.#polyModulusDegree = ctx.preset.polyModulusDegree;
    this.#scope = new Scope();
    try {
      const galoisPayload = ctx.openEnvelope(galoisKeys, 'galois-keys', federationId, 'the Galois keys');
      this.galois = this.#scope.track(new ctx.seal.GaloisKeys());
      heTry('loading the Galois keys', () => this.galois.loadFromArray(ctx.context, galoisPayload));
      if (relinKeys) {
        const relinPayload = ctx.openEnvelope(relinKeys, 'relin-keys', federationId, 'the relinearization keys');
        const relin = this.#scope.track(new ctx.seal.RelinKeys());
        heTry('loading the relinearization keys', () => relin.loadFromArray(ctx.context, relinPayload));
        this.relin = relin;
      }
    } catch (e) {
      this.#scope.dispose();
      throw e;
    }
  }

  static load(ctx: HeContext, federationId: string, galoisKeys: Uint8Array, relinKeys?: Uint8Array): InferenceKeys {
    return new InferenceKeys(ctx, federationId, galoisKeys, relinKeys);
  }

  /** Throws a precise error if a step of `layout` has no key (SEAL would only say "Galois key not present"). */
  checkCovers(layout: InferenceLayout): void {
    const twoN = 2 * this.#polyModulusDegree;
    for (const step of galoisSteps(layout)) {
      let elt = 1;
      for (let i = 0; i < step; i++) elt = (elt * 3) % twoN;
      if (!this.galois.hasKey(elt)) throw new HeError('mismatch', `the uploaded Galois keys lack rotation step ${step}`);
    }
  }

  dispose(): void {
    this.#scope.dispose();
  }
}

/**
 * Coordinator: logits of one group of tokens (ciphertextsPerGroup input envelopes) -> one result envelope per pass,
 * at the last level (smallest), scale 2^40.
 */
export function evaluateLinear(
  ctx: HeContext,
  federationId: string,
  input: readonly Uint8Array[],
  head: PreparedHead,
  keys: InferenceKeys,
): Uint8Array[] {
  const layout = head.layout;
  if (input.length !== layout.ciphertextsPerGroup) {
    throw new HeError('mismatch', `input has ${input.length} ciphertexts, the layout needs ${layout.ciphertextsPerGroup}`);
  }
  if (head.encrypted && !keys.relin) throw new HeError('mismatch', 'an encrypted head needs relinearization keys');
  keys.checkCovers(layout);
  const ev = ctx.evaluator;
  return withScope((scope) => {
    const xs = input.map((bytes, g) => scope.track(ctx.loadCiphertext(bytes, federationId, `input ciphertext ${g}`)));
    xs.forEach((x, g) => {
      if (x.scale() !== ctx.scale) {
        throw new HeError('mismatch', `input ciphertext ${g} has scale 2^${Math.log2(x.scale())}, expected 2^${ctx.preset.scaleBits}`);
      }
    });
    const results: Uint8Array[] = [];
    for (let p = 0; p < layout.passes; p++) {
      const acc = scope.track(new ctx.seal.Ciphertext());
      const product = scope.track(new ctx.seal.Ciphertext());
      const rotated = scope.track(new ctx.seal.Ciphertext());
      heTry(`evaluating pass ${p}`, () => {
        xs.forEach((x, g) => {
          const target = g === 0 ? acc : product;
          const w = head.weights(p, g);
          if (head.encrypted) ev.multiply(x, w as Ciphertext, target);
          else ev.multiplyPlain(x, w as Plaintext, target);
          if (g > 0) ev.addInplace(acc, product);
        });
        if (head.encrypted) ev.relinearizeInplace(acc, keys.relin as NonNullable<typeof keys.relin>);
        ev.rescaleToNextInplace(acc);
        // Unmasked: drop to the last level first; a rotation there costs ~1/3 of one a level up (measured 1.0 vs 2.9 ms).
        if (!head.mask) ev.cipherModSwitchToNextInplace(acc);
        for (const step of galoisSteps(layout)) {
          ev.rotateVector(acc, step, keys.galois, rotated);
          ev.addInplace(acc, rotated);
        }
        if (head.mask) {
          ev.multiplyPlainInplace(acc, head.mask);
          ev.rescaleToNextInplace(acc);
        }
        acc.setScale(ctx.scale); // exact already (q2 and q1 divided out); removes float drift before the bias add
        const bias = head.bias(p);
        if (head.encrypted) ev.addInplace(acc, bias as Ciphertext);
        else ev.addPlainInplace(acc, bias as Plaintext);
      });
      results.push(ctx.toEnvelope('ciphertext', federationId, acc));
    }
    return results;
  });
}

/** Key holder: logits[t][c] for the first `tokenCount` tokens of one group's results. */
export function decryptLogits(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  results: readonly Uint8Array[],
  layout: InferenceLayout,
  tokenCount: number,
): Float64Array[] {
  if (results.length !== layout.passes) {
    throw new HeError('mismatch', `got ${results.length} result ciphertexts, the layout has ${layout.passes} passes`);
  }
  if (!Number.isInteger(tokenCount) || tokenCount < 1 || tokenCount > layout.tokensPerGroup) {
    throw new HeError('bad-argument', `tokenCount ${tokenCount} must be in 1..${layout.tokensPerGroup}`);
  }
  const logits = Array.from({ length: tokenCount }, () => new Float64Array(layout.classes));
  results.forEach((bytes, p) => {
    const slots = decryptSlots(ctx, secretKey, bytes, `result ciphertext ${p}`);
    for (let lane = 0; lane < layout.classesPerPass; lane++) {
      const cls = p * layout.classesPerPass + lane;
      if (cls >= layout.classes) break;
      for (let t = 0; t < tokenCount; t++) (logits[t] as Float64Array)[cls] = slots[slotIndex(layout, 0, lane, t)] as number;
    }
  });
  return logits;
}
