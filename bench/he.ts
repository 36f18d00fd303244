// Benchmark suite `he`: keygen, encode+encrypt, decrypt, add, weighted aggregation, encrypted inference per image
// (single and batched, head in clear and encrypted, replicated and masked output), serialize/load, and the bytes of
// every object kind, in Node. bench/run.ts calls run(); the returned object's top-level numbers
// (uploadBytesPerClinicRound, inferenceMsSingle, inferenceMsPerImageBatched, inferenceMsSingleMasked,
// maxAbsLogitError) belong at the top level of bench/results/he.json. Times are medians (ms) and fastest reps
// (minMs); on the shared 2-core box the median moves with other load, minMs approximates the uncontended cost.
// inferenceMs* are coordinator (server) milliseconds per image for the default layouts (replicated output).
import { decryptWeightedMean, encryptWeightedContribution } from '../src/he/aggregate.ts';
import { HeContext } from '../src/he/context.ts';
import { packHead } from '../src/he/head.ts';
import {
  InferenceKeys,
  PreparedHead,
  decryptLogits,
  encryptHeadForInference,
  encryptInferenceInput,
  evaluateLinear,
  generateInferenceKeys,
  inferenceLayout,
} from '../src/he/inference.ts';
import type { InferenceLayout } from '../src/he/inference.ts';
import { sealKeyFile } from '../src/he/keyfile.ts';
import type { PresetId } from '../src/he/params.ts';
import { withScope } from '../src/he/scope.ts';
import { maxAbsDiff, plainLogits, syntheticHead, syntheticTokens } from '../src/he/testing.ts';
import { decryptSlots, encryptSlots, generateSecretKey, sumCiphertexts } from '../src/he/tokens.ts';

const FED = 'bench-federation';

interface Row {
  op: string;
  preset: PresetId | '-';
  /** Median over reps. */
  ms?: number;
  /** Fastest rep: the uncontended cost on a shared, loaded machine. */
  minMs?: number;
  bytes?: number;
  reps?: number;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median and fastest wall time of `reps` calls (after one warm-up call); returns the last result too. */
async function time<T>(reps: number, fn: () => T | Promise<T>): Promise<{ ms: number; minMs: number; result: T }> {
  let result = await fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    result = await fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), minMs: Math.min(...samples), result };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function run(): Promise<{
  rows: Row[];
  uploadBytesPerClinicRound: number;
  inferenceMsSingle: number;
  inferenceMsPerImageBatched: number;
  inferenceMsSingleMasked: number;
  maxAbsLogitError: number;
}> {
  const rows: Row[] = [];
  const push = (row: Row) =>
    rows.push({
      ...row,
      ...(row.ms !== undefined ? { ms: round3(row.ms) } : {}),
      ...(row.minMs !== undefined ? { minMs: round3(row.minMs) } : {}),
    });

  // --- contexts and keys
  for (const presetId of ['agg-v1', 'inf-v1'] as const) {
    const t0 = performance.now();
    await HeContext.create(presetId);
    push({ op: 'context create (first use: wasm + SEALContext)', preset: presetId, ms: performance.now() - t0 });
  }
  const agg = await HeContext.create('agg-v1');
  const inf = await HeContext.create('inf-v1');
  for (const ctx of [agg, inf]) {
    const { ms, result } = await time(5, () => generateSecretKey(ctx, FED));
    push({ op: 'keygen secret key', preset: ctx.preset.id, ms, bytes: result.length });
  }
  const aggKey = await generateSecretKey(agg, FED);
  const infKey = await generateSecretKey(inf, FED);
  for (const [ctx, key] of [
    [agg, aggKey],
    [inf, infKey],
  ] as const) {
    const session = ctx.keySession(key, FED);
    const pk = withScope((scope) => ctx.toEnvelope('public-key', FED, scope.track(session.keyGenerator.createPublicKeySerializable())));
    push({ op: 'public key, seeded (not used: clinics hold sk)', preset: ctx.preset.id, bytes: pk.length });
  }
  const wrapped = await time(1, () => sealKeyFile(aggKey, 'bench passphrase'));
  push({ op: 'key file seal (PBKDF2 600k + AES-GCM)', preset: 'agg-v1', ms: wrapped.ms, minMs: wrapped.minMs, bytes: wrapped.result.length });

  // --- token batches and sums (agg-v1)
  const slots = Float64Array.from({ length: agg.slotCount }, (_, i) => Math.sin(i));
  const enc = await time(30, () => encryptSlots(agg, aggKey, FED, slots));
  push({ op: 'encode + encrypt (seeded symmetric) + serialize, 4096 slots', preset: 'agg-v1', ms: enc.ms, minMs: enc.minMs, bytes: enc.result.length, reps: 30 });
  const dec = await time(30, () => decryptSlots(agg, aggKey, enc.result, 'bench'));
  push({ op: 'load + decrypt + decode', preset: 'agg-v1', ms: dec.ms, minMs: dec.minMs, reps: 30 });
  const load = await time(30, () => withScope((s) => s.track(agg.loadCiphertext(enc.result, FED, 'bench')).size()));
  push({ op: 'envelope + SEAL load/validate of an upload', preset: 'agg-v1', ms: load.ms, minMs: load.minMs, reps: 30 });
  const sum2 = await time(30, () => sumCiphertexts(agg, FED, [[enc.result], [enc.result]]));
  push({ op: 'sum of 2 uploads (load x2, add, serialize)', preset: 'agg-v1', ms: sum2.ms, minMs: sum2.minMs, bytes: sum2.result[0]?.length, reps: 30 });
  withScope((scope) => {
    const a = scope.track(agg.loadCiphertext(enc.result, FED, 'a'));
    const b = scope.track(agg.loadCiphertext(enc.result, FED, 'b'));
    const out = scope.track(new agg.seal.Ciphertext());
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      agg.evaluator.add(a, b, out);
      samples.push(performance.now() - t0);
    }
    push({ op: 'add (two loaded ciphertexts)', preset: 'agg-v1', ms: median(samples), minMs: Math.min(...samples), reps: 200 });
  });

  // --- weighted aggregation of a 3-class head + count
  const heads = [0, 1, 2].map((i) => packHead(syntheticHead(3, 768, 100 + i)));
  const counts = [1, 54_321, 100_000];
  const round = { clinicCount: 3 };
  const upload = await time(10, () => encryptWeightedContribution(agg, aggKey, FED, heads[0] as Float64Array, 1, round));
  const uploadBytesPerClinicRound = upload.result.reduce((s, b) => s + b.length, 0);
  push({ op: 'clinic upload: 3x768 head + 3 biases + count (1 ct)', preset: 'agg-v1', ms: upload.ms, minMs: upload.minMs, bytes: uploadBytesPerClinicRound, reps: 10 });
  const uploads = await Promise.all(heads.map((h, i) => encryptWeightedContribution(agg, aggKey, FED, h, counts[i] as number, round)));
  const summed = await time(10, () => sumCiphertexts(agg, FED, uploads));
  push({ op: 'coordinator: weighted sum of 3 clinics', preset: 'agg-v1', ms: summed.ms, minMs: summed.minMs, bytes: summed.result[0]?.length, reps: 10 });
  const mean = await time(10, () => decryptWeightedMean(agg, aggKey, summed.result, heads[0]!.length));
  const want = heads[0]!.map((_, k) => heads.reduce((s, h, i) => s + h[k]! * counts[i]!, 0) / 154_322);
  const aggErr = maxAbsDiff(mean.result.mean, want) / Math.max(...want.map(Math.abs));
  push({ op: 'key holder: decrypt + divide by count', preset: 'agg-v1', ms: mean.ms, minMs: mean.minMs, reps: 10, note: `max relative error ${aggErr.toExponential(2)}` });

  // --- encrypted inference (inf-v1), 3 x 768 head
  const head = syntheticHead(3, 768, 7);
  const single = inferenceLayout(inf, 'single', 3, 768);
  const singleMasked = inferenceLayout(inf, 'single', 3, 768, { masked: true });
  const batched = inferenceLayout(inf, 'batched', 3, 768, { tokensPerGroup: 256 });
  const batchedMasked = inferenceLayout(inf, 'batched', 3, 768, { tokensPerGroup: 256, masked: true });
  const gk = await time(2, () => generateInferenceKeys(inf, infKey, FED, [single], { relin: true }));
  push({ op: 'Galois keys, single layout (10 steps, seeded)', preset: 'inf-v1', ms: gk.ms, minMs: gk.minMs, bytes: gk.result.galoisKeys.length });
  push({ op: 'relinearization keys (seeded)', preset: 'inf-v1', bytes: gk.result.relinKeys?.length });
  const gkB = generateInferenceKeys(inf, infKey, FED, [batched], { relin: false });
  push({ op: 'Galois keys, batched layout B=256 (4 steps, seeded)', preset: 'inf-v1', bytes: gkB.galoisKeys.length });
  const all = generateInferenceKeys(inf, infKey, FED, [single, singleMasked, batched], { relin: true });
  const keyLoad = await time(3, () => InferenceKeys.load(inf, FED, all.galoisKeys, all.relinKeys).dispose());
  push({ op: 'coordinator: load Galois + relin keys', preset: 'inf-v1', ms: keyLoad.ms });
  const keys = InferenceKeys.load(inf, FED, all.galoisKeys, all.relinKeys);

  let maxAbsLogitError = 0;
  const tokens = syntheticTokens(1024, 768, 9);
  const measure = async (label: string, layout: InferenceLayout, encrypted: boolean, images: number) => {
    const prepared = encrypted
      ? PreparedHead.encrypted(inf, FED, encryptHeadForInference(inf, infKey, FED, head, layout), layout)
      : PreparedHead.plain(inf, head, layout);
    const sample = tokens.slice(0, images);
    const t0 = performance.now();
    const groups = encryptInferenceInput(inf, infKey, FED, sample, layout);
    const clientMs = (performance.now() - t0) / images;
    const evalSamples: number[] = [];
    let results: Uint8Array[][] = [];
    for (let rep = 0; rep < (layout.mode === 'single' ? 3 : 2); rep++) {
      results = [];
      for (const group of groups) {
        const t1 = performance.now();
        results.push(evaluateLinear(inf, FED, group, prepared, keys));
        evalSamples.push((performance.now() - t1) / Math.min(layout.tokensPerGroup, images));
      }
    }
    const t2 = performance.now();
    results.forEach((r, gi) => {
      const count = Math.min(layout.tokensPerGroup, images - gi * layout.tokensPerGroup);
      decryptLogits(inf, infKey, r, layout, count).forEach((l, t) => {
        const err = maxAbsDiff(l, plainLogits(head, sample[gi * layout.tokensPerGroup + t] as Float32Array));
        maxAbsLogitError = Math.max(maxAbsLogitError, err);
      });
    });
    const decryptMs = (performance.now() - t2) / images;
    prepared.dispose();
    const ms = median(evalSamples);
    push({
      op: `inference ${label}: coordinator ms per image`,
      preset: 'inf-v1',
      ms,
      minMs: Math.min(...evalSamples),
      bytes: groups[0]!.reduce((s, b) => s + b.length, 0),
      reps: evalSamples.length,
      note: `client encrypt ${clientMs.toFixed(2)} ms/image, decrypt ${decryptMs.toFixed(2)} ms/image; bytes = upload per group of ${layout.tokensPerGroup}; result ${results[0]!.reduce((s, b) => s + b.length, 0)} B per group`,
    });
    return ms;
  };
  const inferenceMsSingle = await measure('single, head in clear, replicated output', single, false, 12);
  await measure('single, head encrypted (ct x ct), replicated output', single, true, 12);
  const inferenceMsSingleMasked = await measure('single, head in clear, masked output', singleMasked, false, 12);
  await measure('single, head encrypted (ct x ct), masked output', singleMasked, true, 12);
  const inferenceMsPerImageBatched = await measure('batched B=256, head in clear, replicated output', batched, false, 1024);
  await measure('batched B=256, head in clear, masked output', batchedMasked, false, 512);
  await measure('batched B=256, head encrypted (ct x ct), replicated output', batched, true, 256);
  keys.dispose();

  const rt = await time(20, () => withScope((s) => s.track(inf.loadCiphertext(encryptSlots(inf, infKey, FED, slots), FED, 'x')).size()));
  push({ op: 'encrypt + serialize + load, 3-prime level', preset: 'inf-v1', ms: rt.ms, minMs: rt.minMs, reps: 20 });

  return {
    rows,
    uploadBytesPerClinicRound,
    inferenceMsSingle,
    inferenceMsPerImageBatched,
    inferenceMsSingleMasked,
    maxAbsLogitError,
  };
}

if (import.meta.main) {
  const result = await run();
  console.table(result.rows);
  const { rows: _rows, ...summary } = result;
  console.log(summary);
}
