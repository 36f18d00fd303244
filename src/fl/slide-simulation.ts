// The slide-level comparison (Node only): synthetic bags split over clinics, then mean-pool (into each requested
// tile strategy) and abmil in each domain on identical data and seeds, through the same channels as the tile
// simulation (a real coordinator, or the HE core's sum for the maths tests).
import { HeContext } from '../he/context.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { DEFAULT_ABMIL_TRAINING } from './abmil.ts';
import type { AbmilTraining } from './abmil.ts';
import type { DomainName } from './channels.ts';
import type { LocalCoordinator } from './coordinator.ts';
import type { SplitName } from './dataset.ts';
import type { RoundRecord } from './federation.ts';
import { runSlideFederation } from './slide-federation.ts';
import type { SlideFederationRun } from './slide-federation.ts';
import { channelFor, compareRuns, roundsDocument } from './simulation.ts';
import type { SimulationOptions } from './simulation.ts';
import { prepareSlideClinics, syntheticSlides } from './slides.ts';
import type { SlideClinicData, SlideSet } from './slides.ts';
import { createSlideStrategy } from './strategies/index.ts';
import type { SlideStrategyName, TileStrategyName } from './strategies/index.ts';

export interface SlideSimulationOptions
  extends Pick<SimulationOptions, 'clinics' | 'rounds' | 'split' | 'seed' | 'trainPerClass' | 'testPerClass' | 'dim' | 'validationFraction' | 'training' | 'ridgeLambda' | 'aggregator' | 'startCoordinator'> {
  strategies: readonly SlideStrategyName[];
  /** The tile strategies mean-pool feeds (one run each). */
  pooled: readonly TileStrategyName[];
  domains: readonly DomainName[];
  /** Share of a slide's tiles that carry its class. */
  signalFraction: number;
  /** Tiles per slide, [min, max]. */
  tiles: readonly [number, number];
  abmil: Omit<AbmilTraining, 'seed'>;
  onRun?: (run: SlideSimulationRun) => void;
}

export const DEFAULT_SLIDE_SIMULATION: Omit<SlideSimulationOptions, 'strategies' | 'domains' | 'training' | 'ridgeLambda' | 'aggregator' | 'startCoordinator' | 'onRun'> = {
  clinics: 3,
  rounds: 4,
  split: 'label-skew',
  seed: 1,
  trainPerClass: 40,
  testPerClass: 50,
  dim: 384,
  validationFraction: 0.1,
  pooled: ['fedavg-head', 'prototypes', 'ridge'],
  signalFraction: 0.1,
  // Small bags keep the 2-core simulation in minutes; real slides have thousands of tiles (research notes 2d).
  tiles: [20, 40],
  abmil: DEFAULT_ABMIL_TRAINING,
};

export interface SlideSimulationRun extends SlideFederationRun {
  /** 'abmil', or 'mean-pool+<tile strategy>'. */
  label: string;
  split: SplitName;
}

export interface SlideSimulationReport {
  runs: SlideSimulationRun[];
  test: SlideSet;
  clinics: SlideClinicData[];
}

export async function simulateSlides(opts: SlideSimulationOptions): Promise<SlideSimulationReport> {
  await useNodeWasmBackend();
  const { train, test } = syntheticSlides({ seed: opts.seed, trainPerClass: opts.trainPerClass, testPerClass: opts.testPerClass, dim: opts.dim, signalFraction: opts.signalFraction, tiles: opts.tiles });
  const clinics = prepareSlideClinics(train, opts.clinics, opts.split, opts.seed, opts.validationFraction);
  const domains = opts.domains.filter((d) => d !== 'gradient-encryption');
  const needsHe = domains.includes('encrypted');
  const ctx = needsHe ? await HeContext.create('agg-v1') : undefined;
  if (needsHe && opts.aggregator === 'coordinator' && !opts.startCoordinator) throw new Error("simulate: aggregator 'coordinator' needs opts.startCoordinator");
  const coordinator: LocalCoordinator | undefined = needsHe && opts.aggregator === 'coordinator' ? await opts.startCoordinator?.() : undefined;
  const plans = opts.strategies.flatMap((name): { name: SlideStrategyName; pooled: TileStrategyName; label: string }[] =>
    name === 'mean-pool' ? opts.pooled.map((pooled) => ({ name, pooled, label: `mean-pool+${pooled}` })) : [{ name, pooled: 'prototypes' as TileStrategyName, label: name }],
  );
  const runs: SlideSimulationRun[] = [];
  try {
    for (const plan of plans) {
      for (const domain of domains) {
        const strategy = createSlideStrategy(plan.name, { seed: opts.seed, training: opts.training, ridgeLambda: opts.ridgeLambda, pooled: plan.pooled, abmil: opts.abmil });
        const channel = await channelFor({ domain, label: plan.label, strategy: plan.name, ctx, coordinator, clinics: opts.clinics, split: opts.split });
        const run = await runSlideFederation({ strategy, channel, clinics, test, rounds: opts.rounds });
        const record = { ...run, label: plan.label, split: opts.split };
        runs.push(record);
        opts.onRun?.(record);
      }
    }
  } finally {
    await coordinator?.close();
  }
  return { runs, test, clinics };
}

/** One run of `--level slide --json`: the tile document's run (rounds per round) plus the slide-level measures. */
export interface SlideRunDocument {
  /** The run's label: 'abmil' or 'mean-pool+<tile strategy>'. */
  strategy: string;
  domain: DomainName;
  split: SplitName;
  finalAccuracy: number;
  rounds: RoundRecord[];
  /** Macro one-vs-rest AUC of the final model on the test slides. */
  auc: number;
  /** Against the same label's unencrypted run; null for that run itself or when there is none. */
  accuracyDeltaPp: number | null;
  agreement: number | null;
  ciphertextsPerClinic: number;
  bytesUpPerRoundPerClinic: number;
  bytesDownPerRoundPerClinic: number;
  msPerRound: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** What `npm run simulate -- --level slide --json` prints: the tile-level document's shape, slide measures added. */
export function slideSimulationDocument(report: SlideSimulationReport, settings: object): { settings: object; clinicSlides: number[]; runs: SlideRunDocument[] } {
  const runs = report.runs.map((r): SlideRunDocument => {
    const plain = report.runs.find((p) => p.label === r.label && p.domain === 'unencrypted');
    const versus = r.domain !== 'unencrypted' && plain ? compareRuns(r, plain) : null;
    return {
      strategy: r.label,
      domain: r.domain,
      split: r.split,
      finalAccuracy: r.finalAccuracy,
      rounds: roundsDocument(r.rounds),
      auc: r.auc,
      accuracyDeltaPp: versus?.accuracyDeltaPp ?? null,
      agreement: versus?.agreement ?? null,
      ciphertextsPerClinic: r.rounds[0]?.ciphertextsPerClinic ?? 0,
      bytesUpPerRoundPerClinic: Math.round(mean(r.rounds.map((x) => x.bytesUpPerClinic))),
      bytesDownPerRoundPerClinic: Math.round(mean(r.rounds.map((x) => x.bytesDownPerClinic))),
      msPerRound: Math.round(mean(r.rounds.map((x) => Object.values(x.phaseMs).reduce((a, b) => a + b, 0)))),
    };
  });
  return { settings: { ...settings, level: 'slide', accuracyUnit: 'fraction of test slides' }, clinicSlides: report.clinics.map((c) => c.train.count), runs };
}
