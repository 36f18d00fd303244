// Memory soak: node-seal 7 frees nothing by itself, so a leaked Plaintext/Ciphertext per call shows up as ~0.6 MB
// of RSS per operation (research/node-seal.md §6). Mixed encrypt / sum / decrypt / rejected-load operations must keep
// RSS flat after warm-up. HE_SOAK_OPS sets the operation count (default 10,000, ~15-25 s on the 2-core CI box).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeContext } from './context.ts';
import { HeError } from './errors.ts';
import { decryptSlots, encryptSlots, generateSecretKey, sumCiphertexts } from './tokens.ts';

const OPS = Number(process.env.HE_SOAK_OPS ?? 10_000);
const FED = 'fed-soak';

describe('memory soak', () => {
  let ctx: HeContext;
  let key: Uint8Array;
  beforeAll(async () => {
    ctx = await HeContext.create('agg-v1');
    key = await generateSecretKey(ctx, FED);
  });
  afterAll(() => ctx.dispose());

  it(`${OPS} operations keep RSS within 10% after warm-up`, async () => {
    const slots = Float64Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i));
    let last = encryptSlots(ctx, key, FED, slots);
    const corrupt = last.slice();
    corrupt.fill(0xff, 100, 132);
    const warmup = Math.floor(OPS / 10);
    let rssAfterWarmup = 0;
    for (let i = 0; i < OPS; i++) {
      switch (i % 4) {
        case 0:
          last = encryptSlots(ctx, key, FED, slots);
          break;
        case 1:
          [last] = (await sumCiphertexts(ctx, FED, [[last], [last]])) as [Uint8Array];
          break;
        case 2:
          decryptSlots(ctx, key, last, 'soak ciphertext');
          break;
        default:
          expect(() => ctx.loadCiphertext(corrupt, FED, 'corrupt ciphertext')).toThrow(HeError);
      }
      if (i === warmup) rssAfterWarmup = process.memoryUsage().rss;
    }
    const growth = process.memoryUsage().rss / rssAfterWarmup - 1;
    expect(growth).toBeLessThanOrEqual(0.1);
  });
});
