// Token batches: k = floor(slotCount / dim) tokens per ciphertext, token t of a batch in slots [t*dim, (t+1)*dim).
// Clinics hold the federation secret key, so uploads use seeded symmetric encryption (half the bytes of
// public-key encryption). Sums are index-wise: ciphertext j of every clinic is added into result j.
import type { HeContext, SecretKeyRef } from './context.ts';
import { HeError, heTry, toHeError } from './errors.ts';
import { withScope } from './scope.ts';

/** Tokens per ciphertext for a given token width. */
export function tokensPerCiphertext(ctx: HeContext, dim: number): number {
  if (!Number.isInteger(dim) || dim < 1 || dim > ctx.slotCount) {
    throw new HeError('bad-argument', `token dim ${dim} must be an integer in 1..${ctx.slotCount}`);
  }
  return Math.floor(ctx.slotCount / dim);
}

/**
 * Largest magnitude a slot may hold at the preset's default scale, leaving 2 bits for noise and the sign:
 * |value| * 2^scaleBits < 2^(bits(q0) - 2). Sums must stay under it too.
 */
export function maxSlotMagnitude(ctx: HeContext, scaleBits = ctx.preset.scaleBits): number {
  const q0Bits = ctx.preset.coeffModulusBits[0] as number;
  return 2 ** (q0Bits - 2 - scaleBits);
}

export async function generateSecretKey(ctx: HeContext, federationId: string): Promise<Uint8Array> {
  const seal = ctx.seal;
  return withScope((scope) => {
    const keyGenerator = scope.track(heTry('creating a key generator', () => new seal.KeyGenerator(ctx.context)));
    const secretKey = scope.track(keyGenerator.secretKey());
    return ctx.toEnvelope('secret-key', federationId, secretKey);
  });
}

/** Encodes `values` (already laid out in slots) and returns a seeded symmetric ciphertext envelope. */
export function encryptSlots(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  federationId: string,
  values: Float64Array,
  scale = ctx.scale,
): Uint8Array {
  const session = ctx.keySession(secretKey, federationId);
  return withScope((scope) => {
    const plain = scope.track(new ctx.seal.Plaintext());
    heTry('encoding slots', () => ctx.encoder.encode(values, scale, plain));
    const seeded = scope.track(heTry('encrypting slots', () => session.encryptor.encryptSymmetricSerializable(plain)));
    return ctx.toEnvelope('ciphertext', federationId, seeded);
  });
}

/** Decrypts a ciphertext envelope (any level) to its slot values. */
export function decryptSlots(ctx: HeContext, secretKey: SecretKeyRef, ciphertext: Uint8Array, what: string): Float64Array {
  const session = ctx.keySession(secretKey);
  return withScope((scope) => {
    const ct = scope.track(ctx.loadCiphertext(ciphertext, session.federationId, what, true));
    const plain = scope.track(new ctx.seal.Plaintext());
    heTry(`decrypting ${what}`, () => session.decryptor.decrypt(ct, plain));
    return heTry(`decoding ${what}`, () => ctx.encoder.decodeFloat64(plain) as Float64Array);
  });
}

export async function encryptTokenBatch(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  federationId: string,
  tokens: readonly Float32Array[] | readonly Float64Array[],
): Promise<Uint8Array[]> {
  const first = tokens[0];
  if (!first) throw new HeError('bad-argument', 'encryptTokenBatch needs at least one token');
  const dim = first.length;
  const perCt = tokensPerCiphertext(ctx, dim);
  const limit = maxSlotMagnitude(ctx);
  const out: Uint8Array[] = [];
  for (let start = 0; start < tokens.length; start += perCt) {
    const slots = new Float64Array(ctx.slotCount);
    const batch = tokens.slice(start, start + perCt);
    batch.forEach((token, t) => {
      if (token.length !== dim) {
        throw new HeError('bad-argument', `token ${start + t} has ${token.length} values, token 0 has ${dim}`);
      }
      for (let i = 0; i < dim; i++) {
        const v = token[i] as number;
        if (!(Math.abs(v) <= limit)) {
          throw new HeError('out-of-range', `token ${start + t} value ${i} is ${v}; |value| must be <= ${limit}`);
        }
      }
      slots.set(token, t * dim);
    });
    out.push(encryptSlots(ctx, secretKey, federationId, slots));
  }
  return out;
}

/**
 * Index-wise homomorphic sum across clinics: result[j] = sum over clinics of perClinic[c][j]. Every envelope is
 * checked (kind, federation, preset, SEAL validity, level, scale) before any arithmetic.
 */
export async function sumCiphertexts(
  ctx: HeContext,
  federationId: string,
  perClinic: readonly (readonly Uint8Array[])[],
): Promise<Uint8Array[]> {
  const firstClinic = perClinic[0];
  if (!firstClinic || firstClinic.length === 0) {
    throw new HeError('bad-argument', 'sumCiphertexts needs at least one clinic with at least one ciphertext');
  }
  const count = firstClinic.length;
  perClinic.forEach((cts, c) => {
    if (cts.length !== count) {
      throw new HeError('mismatch', `clinic ${c} sent ${cts.length} ciphertexts, clinic 0 sent ${count}`);
    }
  });
  const out: Uint8Array[] = [];
  for (let j = 0; j < count; j++) {
    out.push(
      withScope((scope) => {
        let sum: ReturnType<HeContext['loadCiphertext']> | undefined;
        perClinic.forEach((cts, c) => {
          const what = `clinic ${c} ciphertext ${j}`;
          const ct = scope.track(ctx.loadCiphertext(cts[j] as Uint8Array, federationId, what));
          if (!sum) {
            sum = ct;
            return;
          }
          if (Math.abs(Math.log2(ct.scale()) - Math.log2(sum.scale())) > 1e-9) {
            throw new HeError(
              'mismatch',
              `${what} has scale 2^${Math.log2(ct.scale()).toFixed(3)}, clinic 0 used 2^${Math.log2(sum.scale()).toFixed(3)}`,
            );
          }
          try {
            ctx.evaluator.addInplace(sum, ct);
          } catch (e) {
            throw toHeError(e, `adding ${what}`);
          }
        });
        return ctx.toEnvelope('ciphertext', federationId, sum as NonNullable<typeof sum>);
      }),
    );
  }
  return out;
}

export async function decryptTokenBatch(
  ctx: HeContext,
  secretKey: SecretKeyRef,
  ciphertexts: readonly Uint8Array[],
  tokenCount: number,
  dim: number,
): Promise<Float64Array[]> {
  const perCt = tokensPerCiphertext(ctx, dim);
  const needed = Math.ceil(tokenCount / perCt);
  if (!Number.isInteger(tokenCount) || tokenCount < 1 || ciphertexts.length !== needed) {
    throw new HeError(
      'bad-argument',
      `${tokenCount} tokens of dim ${dim} need ${needed} ciphertexts (${perCt} per ciphertext), got ${ciphertexts.length}`,
    );
  }
  const tokens: Float64Array[] = [];
  ciphertexts.forEach((bytes, j) => {
    const slots = decryptSlots(ctx, secretKey, bytes, `ciphertext ${j}`);
    for (let t = 0; t < perCt && tokens.length < tokenCount; t++) tokens.push(slots.slice(t * dim, (t + 1) * dim));
  });
  return tokens;
}
