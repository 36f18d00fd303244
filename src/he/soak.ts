// Memory soak runner. node-seal 7 frees nothing by itself (a leaked Plaintext/Ciphertext costs ~0.6 MB per call,
// research/node-seal.md §6) and every SEAL exception caught in JS used to leak wasm stack (see seal.ts). This runs a
// mix of encrypt / sum / decrypt / rejected-load operations and reports RSS and the wasm heap size after warm-up and
// at the end. Run it as its own process (soak.test.ts, bench/he.ts):
//   node --expose-gc --max-semi-space-size=1 src/he/soak.ts [ops]
// The fixed young generation keeps V8's semi-space growth policy (a one-off ~20 MB step under envelope churn) out
// of the reading, so RSS measures what is retained.
import { parseArgs } from 'node:util';
import { HeContext } from './context.ts';
import { HeError } from './errors.ts';
import { sealHeapBytes } from './seal.ts';
import { decryptSlots, encryptSlots, generateSecretKey, sumCiphertexts } from './tokens.ts';

export interface SoakResult {
  ops: number;
  rssAfterWarmup: number;
  rssEnd: number;
  heapAfterWarmup: number;
  heapEnd: number;
  ms: number;
}

function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

export async function runSoak(ops: number): Promise<SoakResult> {
  const fed = 'fed-soak';
  const ctx = await HeContext.create('agg-v1');
  const key = await generateSecretKey(ctx, fed);
  const slots = Float64Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i));
  let last = encryptSlots(ctx, key, fed, slots);
  const corrupt = last.slice();
  corrupt.fill(0xff, 100, 132);
  const warmup = Math.floor(ops / 10);
  let rssAfterWarmup = 0;
  let heapAfterWarmup = 0;
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    switch (i % 4) {
      case 0:
        last = encryptSlots(ctx, key, fed, slots);
        break;
      case 1:
        [last] = (await sumCiphertexts(ctx, fed, [[last], [last]])) as [Uint8Array];
        break;
      case 2:
        decryptSlots(ctx, key, last, 'soak ciphertext');
        break;
      default:
        try {
          ctx.loadCiphertext(corrupt, fed, 'corrupt ciphertext').delete();
          throw new Error('a corrupt ciphertext was accepted');
        } catch (e) {
          if (!(e instanceof HeError) || e.code !== 'seal') throw e;
        }
    }
    if (i === warmup) {
      rssAfterWarmup = settledRss();
      heapAfterWarmup = sealHeapBytes();
    }
  }
  const ms = performance.now() - start;
  const result = { ops, rssAfterWarmup, rssEnd: settledRss(), heapAfterWarmup, heapEnd: sealHeapBytes(), ms };
  ctx.dispose();
  return result;
}

const USAGE = 'usage: node --expose-gc --max-semi-space-size=1 src/he/soak.ts [ops (a positive integer, default 10000)]';

/** The operation count from the command line; a usage message for anything else. */
function parseOps(args: string[]): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length > 1) throw new Error(`one operation count, got ${positionals.length} arguments`);
  const [raw = '10000'] = positionals;
  const ops = Number(raw);
  if (!/^\d+$/.test(raw) || !(ops >= 1)) throw new Error(`ops must be a positive integer, got '${raw}'`);
  return ops;
}

if (import.meta.main) {
  let ops: number;
  try {
    ops = parseOps(process.argv.slice(2));
  } catch (error) {
    console.error(`soak: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(await runSoak(ops)) + '\n');
}
