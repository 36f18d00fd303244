// One slide-level federated run: a slide strategy (mean-pool or abmil) through the same round loop, channels and
// byte accounting as the tile strategies, scored on test slides by slide-level accuracy and macro one-vs-rest AUC.
import type { DomainName, SumChannel } from './channels.ts';
import { runRounds } from './federation.ts';
import type { RoundRecord } from './federation.ts';
import type { SlideClinicData, SlideSet } from './slides.ts';
import type { SlideStrategy, SlideStrategyName } from './strategies/types.ts';

export interface SlideFederationOptions<Model> {
  strategy: SlideStrategy<Model>;
  channel: SumChannel;
  clinics: readonly SlideClinicData[];
  test: SlideSet;
  rounds: number;
  absent?: (round: number, clinic: number) => boolean;
}

export interface SlideFederationRun<Model = unknown> {
  strategy: SlideStrategyName;
  domain: DomainName;
  /** accuracy: slide-level test accuracy after each round. */
  rounds: RoundRecord[];
  finalAccuracy: number;
  /** Macro one-vs-rest AUC of the final model on the test slides. */
  auc: number;
  model: Model;
  predictions: Int32Array;
  probabilities: Float64Array[];
}

const argmax = (p: Float64Array) => p.indexOf(Math.max(...p));

function slideAccuracy(probabilities: readonly Float64Array[], labels: Int32Array): number {
  let right = 0;
  probabilities.forEach((p, s) => (right += argmax(p) === labels[s] ? 1 : 0));
  return right / labels.length;
}

/** Mann-Whitney AUC of `scores` for positives vs negatives (ties count one half). */
function binaryAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && (order[j + 1] as readonly [number, number])[0] === (order[i] as readonly [number, number])[0]) j++;
    for (let k = i; k <= j; k++) ranks[(order[k] as readonly [number, number])[1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const nPos = positive.filter(Boolean).length;
  const nNeg = positive.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  const rankSum = positive.reduce((s, p, i) => s + (p ? (ranks[i] as number) : 0), 0);
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Mean over classes of the AUC of p(class) for that class against the rest (classes absent from the labels skipped). */
export function macroAuc(probabilities: readonly Float64Array[], labels: Int32Array, classes: number): number {
  const aucs = Array.from({ length: classes }, (_, c) => binaryAuc(probabilities.map((p) => p[c] as number), Array.from(labels, (l) => l === c))).filter(
    (a) => !Number.isNaN(a),
  );
  return aucs.reduce((a, b) => a + b, 0) / aucs.length;
}

export async function runSlideFederation<Model>(opts: SlideFederationOptions<Model>): Promise<SlideFederationRun<Model>> {
  const { strategy, clinics, test } = opts;
  const first = clinics[0];
  if (!first) throw new Error('slide federation: needs at least one clinic');
  const { classes, dim } = first.train;
  for (const c of clinics) {
    if (c.train.dim !== dim || c.train.classes !== classes) throw new Error(`slide federation: clinic ${c.index} has ${c.train.classes} classes x ${c.train.dim}, clinic ${first.index} ${classes} x ${dim}`);
  }
  const { records, model } = await runRounds({
    strategy,
    channel: opts.channel,
    clinics,
    rounds: opts.rounds,
    ...(opts.absent ? { absent: opts.absent } : {}),
    classes,
    dim,
    initial: strategy.initialModel(classes, dim),
    countOf: (c) => c.train.count,
    score: (m) => ({
      test: slideAccuracy(strategy.probabilities(m, test), test.labels),
      validation: clinics.map((c) => slideAccuracy(strategy.probabilities(m, c.validation), c.validation.labels)),
    }),
  });
  const probabilities = strategy.probabilities(model, test);
  return {
    strategy: strategy.name,
    domain: opts.channel.domain,
    rounds: records,
    finalAccuracy: slideAccuracy(probabilities, test.labels),
    auc: macroAuc(probabilities, test.labels, classes),
    model,
    predictions: Int32Array.from(probabilities, argmax),
    probabilities,
  };
}
