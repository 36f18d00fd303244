// The whole comparison in one call (Node only): the synthetic dataset split over clinics, then every requested
// (strategy, domain) pair on identical data and seeds. `encrypted` and `gradient-encryption` go through a real
// coordinator started in-process (or, for the maths tests, the HE core's sum directly); `unencrypted` adds in clear.
// The gradient-encryption baseline is one run (FedAvg of head updates, with the last ViT block's ciphertexts
// counted), whatever strategies are asked for, because it defines its own training.
import { HeContext } from '../he/context.ts';
import { generateSecretKey } from '../he/tokens.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { EncryptedChannel, InProcessTransport, PlainChannel } from './channels.ts';
import type { DomainName, SumChannel } from './channels.ts';
import { CoordinatorChannel, enrolFederation } from './coordinator.ts';
import type { LocalCoordinator } from './coordinator.ts';
import { localSplit, splitClinics, syntheticDataset } from './dataset.ts';
import type { SplitName, TokenSet } from './dataset.ts';
import { runFederation } from './federation.ts';
import type { FederationRun, RoundRecord } from './federation.ts';
import { gradientPayload } from './gradient-baseline.ts';
import { DEFAULT_LOCAL_TRAINING } from './head.ts';
import type { LocalTrainingOptions } from './head.ts';
import { deriveSeed } from './random.ts';
import { createStrategy } from './strategies/index.ts';
import type { ClinicData, StrategyName, TileStrategyName } from './strategies/index.ts';

/** The paper's encrypted traffic per aggregation round (326 KB, read as 326,000 bytes). */
export const PAPER_BYTES_PER_ROUND = 326_000;

export type AggregatorKind = 'coordinator' | 'in-process';

export interface SimulationOptions {
  clinics: number;
  rounds: number;
  strategies: readonly TileStrategyName[];
  domains: readonly DomainName[];
  split: SplitName;
  seed: number;
  trainPerClass: number;
  testPerClass: number;
  /** Token width D of the synthetic tokens (768: ViT-B; 384 ... 2560 for the foundation models). */
  dim: number;
  /** Share of each clinic's tokens held out for its local validation. */
  validationFraction: number;
  training: Omit<LocalTrainingOptions, 'seed'>;
  ridgeLambda: number;
  aggregator: AggregatorKind;
  /** Starts the coordinator when aggregator is 'coordinator' (scripts pass src/coordinator/embedded.ts). */
  startCoordinator?: () => Promise<LocalCoordinator>;
  /** Dropouts: true when `clinic` misses `round`. With the coordinator, such rounds close at their deadline. */
  absent?: (round: number, clinic: number) => boolean;
  /** Called after each run (progress output). */
  onRun?: (run: SimulationRun) => void;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'strategies' | 'domains'> = {
  clinics: 3,
  rounds: 10,
  split: 'iid',
  seed: 1,
  trainPerClass: 1000,
  testPerClass: 1000,
  dim: 768,
  validationFraction: 0.1,
  training: DEFAULT_LOCAL_TRAINING,
  ridgeLambda: 1,
  aggregator: 'coordinator',
};

export interface SimulationRun extends FederationRun {
  split: SplitName;
}

export interface SimulationReport {
  runs: SimulationRun[];
  test: TokenSet;
  clinics: ClinicData[];
}

/** The clinics' data: the training set split over clinics, each with its local validation part. */
export function prepareClinics(train: TokenSet, clinics: number, split: SplitName, seed: number, validationFraction: number): ClinicData[] {
  return splitClinics(train, clinics, split, seed).map((set, index) => ({
    index,
    ...localSplit(set, validationFraction, deriveSeed(seed, `clinic ${index}`)),
  }));
}

interface Plan {
  strategy: TileStrategyName;
  domain: DomainName;
}

function plans(strategies: readonly TileStrategyName[], domains: readonly DomainName[]): Plan[] {
  const out: Plan[] = [];
  for (const strategy of strategies) {
    for (const domain of domains) if (domain !== 'gradient-encryption') out.push({ strategy, domain });
  }
  if (domains.includes('gradient-encryption')) out.push({ strategy: 'fedavg-head', domain: 'gradient-encryption' });
  return out;
}

export async function simulate(opts: SimulationOptions): Promise<SimulationReport> {
  await useNodeWasmBackend();
  const { train, test } = syntheticDataset({ seed: opts.seed, trainPerClass: opts.trainPerClass, testPerClass: opts.testPerClass, dim: opts.dim });
  const clinics = prepareClinics(train, opts.clinics, opts.split, opts.seed, opts.validationFraction);
  const needsHe = opts.domains.some((d) => d !== 'unencrypted');
  const ctx = needsHe ? await HeContext.create('agg-v1') : undefined;
  if (needsHe && opts.aggregator === 'coordinator' && !opts.startCoordinator) {
    throw new Error("simulate: aggregator 'coordinator' needs opts.startCoordinator");
  }
  const coordinator: LocalCoordinator | undefined = needsHe && opts.aggregator === 'coordinator' ? await opts.startCoordinator?.() : undefined;
  const runs: SimulationRun[] = [];
  try {
    for (const plan of plans(opts.strategies, opts.domains)) {
      const baseline = plan.domain === 'gradient-encryption';
      const strategy = createStrategy(plan.strategy, {
        seed: opts.seed,
        training: opts.training,
        ridgeLambda: opts.ridgeLambda,
        ...(baseline ? { payload: 'update' as const } : {}),
      });
      const channel = await channelFor({
        domain: plan.domain,
        label: plan.strategy,
        strategy: plan.strategy,
        ctx,
        coordinator,
        clinics: opts.clinics,
        split: opts.split,
        ...(opts.absent ? { absent: opts.absent } : {}),
        ...(baseline ? { accountedCiphertexts: gradientPayload(ctx as HeContext, train.classes, train.dim).accountedCiphertexts } : {}),
      });
      const run = await runFederation({
        strategy,
        channel,
        clinics,
        test,
        rounds: opts.rounds,
        ...(opts.absent ? { absent: opts.absent } : {}),
      });
      const record = { ...run, split: opts.split };
      runs.push(record);
      opts.onRun?.(record);
    }
  } finally {
    await coordinator?.close();
  }
  return { runs, test, clinics };
}

export interface ChannelPlan {
  domain: DomainName;
  /** Names the run in the federation's name and id. */
  label: string;
  strategy: StrategyName;
  ctx: HeContext | undefined;
  coordinator: LocalCoordinator | undefined;
  clinics: number;
  split: SplitName;
  absent?: (round: number, clinic: number) => boolean;
  accountedCiphertexts?: number;
}

/**
 * The SumChannel of one run: in clear, or encrypted under a fresh federation key through the coordinator (a
 * federation enrolled for the run) or the HE core's in-process sum.
 */
export async function channelFor(plan: ChannelPlan): Promise<SumChannel> {
  const { ctx, coordinator } = plan;
  if (plan.domain === 'unencrypted' || !ctx) return new PlainChannel();
  const accounted = plan.accountedCiphertexts !== undefined ? { accountedCiphertexts: plan.accountedCiphertexts } : {};
  if (coordinator) {
    const federation = await enrolFederation(coordinator, {
      name: `simulate ${plan.label} ${plan.domain} ${plan.split}`,
      strategy: plan.strategy,
      clinics: plan.clinics,
      // With dropouts a round closes at its (short) deadline once all but one clinic uploaded.
      ...(plan.absent ? { minClinics: Math.max(1, plan.clinics - 1), roundSeconds: 5 } : {}),
    });
    // One RoundClient per clinic over the real coordinator: the same client the browser's round store uses.
    const secretKey = await generateSecretKey(ctx, federation.federationId);
    return new CoordinatorChannel({ ctx, secretKey, coordinator, federation, domain: plan.domain, ...accounted });
  }
  const federationId = `fl-${plan.label}-${plan.domain}`;
  const secretKey = await generateSecretKey(ctx, federationId);
  return new EncryptedChannel({ ctx, secretKey, federationId, transport: new InProcessTransport(ctx, federationId), domain: plan.domain, ...accounted });
}

/** Accuracy difference (percentage points) and share of identical test predictions between two runs. */
export function compareRuns(a: { predictions: Int32Array; finalAccuracy: number }, b: { predictions: Int32Array; finalAccuracy: number }): { accuracyDeltaPp: number; agreement: number } {
  if (a.predictions.length !== b.predictions.length) throw new Error(`compare: ${a.predictions.length} vs ${b.predictions.length} predictions`);
  let same = 0;
  for (let i = 0; i < a.predictions.length; i++) if (a.predictions[i] === b.predictions[i]) same++;
  return { accuracyDeltaPp: 100 * (a.finalAccuracy - b.finalAccuracy), agreement: same / a.predictions.length };
}

/** A run's rounds as `--json` writes them: one shape for tile and slide runs, so the Federation page reads both. */
export function roundsDocument(records: readonly RoundRecord[]): RoundRecord[] {
  return records.map(({ round, accuracy, bytesUpPerClinic, bytesDownPerClinic, ciphertextsPerClinic, present, validationAccuracy, phaseMs }) => ({
    round,
    accuracy,
    bytesUpPerClinic,
    bytesDownPerClinic,
    ciphertextsPerClinic,
    present,
    validationAccuracy,
    phaseMs,
  }));
}

export interface TrafficRow {
  strategy: TileStrategyName;
  domain: DomainName;
  rounds: number;
  finalAccuracy: number;
  ciphertextsPerClinic: number;
  bytesUpPerRoundPerClinic: number;
  bytesDownPerRoundPerClinic: number;
  bytesUpTotalPerClinic: number;
  /** gradient-encryption bytes up per round / this run's (how many times less this run sends per round). */
  savingVsGradientPerRound: number | null;
  /** Same over the whole run (closed-form strategies need one round, the baseline `rounds`). */
  savingVsGradientTotal: number | null;
  /** This run's bytes up per round / the paper's 326 KB. */
  ratioToPaperPerRound: number;
}

/** Per-run traffic with the ratios against the gradient-encryption run (when present) and the paper. */
export function trafficRows(runs: readonly FederationRun[]): TrafficRow[] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const baseline = runs.find((r) => r.domain === 'gradient-encryption');
  const perRound = (r: FederationRun) => mean(r.rounds.map((x) => x.bytesUpPerClinic));
  const total = (r: FederationRun) => r.rounds.reduce((n, x) => n + x.bytesUpPerClinic, 0);
  return runs.map((r) => ({
    strategy: r.strategy,
    domain: r.domain,
    rounds: r.rounds.length,
    finalAccuracy: r.finalAccuracy,
    ciphertextsPerClinic: r.rounds[0]?.ciphertextsPerClinic ?? 0,
    bytesUpPerRoundPerClinic: Math.round(perRound(r)),
    bytesDownPerRoundPerClinic: Math.round(mean(r.rounds.map((x) => x.bytesDownPerClinic))),
    bytesUpTotalPerClinic: total(r),
    savingVsGradientPerRound: baseline ? perRound(baseline) / perRound(r) : null,
    savingVsGradientTotal: baseline ? total(baseline) / total(r) : null,
    ratioToPaperPerRound: perRound(r) / PAPER_BYTES_PER_ROUND,
  }));
}
