// `npm run simulate -- --level slide ...`: the slide-level comparison (src/fl/slide-simulation.ts) against a real
// coordinator started in this process: slide accuracy and macro AUC per run, encrypted vs unencrypted (accuracy
// difference and identical predictions), bytes and time per round, mean-pool (into each tile strategy) vs abmil.
import { formatDecimalBytes } from '../src/common/format-bytes.ts';
import { startEmbeddedCoordinator } from '../src/coordinator/embedded.ts';
import { compareRuns } from '../src/fl/simulation.ts';
import type { AggregatorKind } from '../src/fl/simulation.ts';
import { simulateSlides } from '../src/fl/slide-simulation.ts';
import type { SlideSimulationOptions, SlideSimulationRun } from '../src/fl/slide-simulation.ts';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const roundMs = (r: SlideSimulationRun) => mean(r.rounds.map((x) => Object.values(x.phaseMs).reduce((a, b) => a + b, 0)));

export async function runSlideLevel(options: Omit<SlideSimulationOptions, 'onRun' | 'aggregator' | 'startCoordinator'>, json: boolean, aggregator: AggregatorKind): Promise<void> {
  const started = performance.now();
  const report = await simulateSlides({
    ...options,
    aggregator,
    startCoordinator: startEmbeddedCoordinator,
    ...(json ? {} : { onRun: (r) => process.stdout.write(`${r.label} / ${r.domain}: ${r.rounds.map((x) => pct(x.accuracy)).join(' ')}\n`) }),
  });
  const rows = report.runs.map((r) => {
    const plain = report.runs.find((p) => p.label === r.label && p.domain === 'unencrypted');
    const versus = r.domain !== 'unencrypted' && plain ? compareRuns(r, plain) : null;
    return {
      strategy: r.label,
      domain: r.domain,
      split: r.split,
      rounds: r.rounds.length,
      finalAccuracy: r.finalAccuracy,
      auc: r.auc,
      accuracyDeltaPp: versus?.accuracyDeltaPp ?? null,
      agreement: versus?.agreement ?? null,
      ciphertextsPerClinic: r.rounds[0]?.ciphertextsPerClinic ?? 0,
      bytesUpPerRoundPerClinic: Math.round(mean(r.rounds.map((x) => x.bytesUpPerClinic))),
      bytesDownPerRoundPerClinic: Math.round(mean(r.rounds.map((x) => x.bytesDownPerClinic))),
      msPerRound: Math.round(roundMs(r)),
      accuracyPerRound: r.rounds.map((x) => x.accuracy),
    };
  });
  if (json) {
    const slides = report.clinics.map((c) => c.train.count);
    process.stdout.write(`${JSON.stringify({ settings: { ...options, level: 'slide', accuracyUnit: 'fraction of test slides' }, clinicSlides: slides, runs: rows })}\n`);
    return;
  }
  const lines = ['\nslide level (accuracy and AUC on test slides; bytes and ms per round per clinic)'];
  lines.push('strategy                domain        rounds  accuracy    AUC   Δ vs clear  agree     cts   up/round   down/round  ms/round');
  for (const r of rows) {
    lines.push(
      `${r.strategy.padEnd(23)} ${r.domain.padEnd(12)} ${String(r.rounds).padStart(6)}  ${pct(r.finalAccuracy).padStart(8)}  ${r.auc.toFixed(3)}  ` +
        `${(r.accuracyDeltaPp === null ? '-' : `${r.accuracyDeltaPp.toFixed(2)} pp`).padStart(10)}  ${(r.agreement === null ? '-' : pct(r.agreement)).padStart(7)}  ` +
        `${String(r.ciphertextsPerClinic).padStart(4)}  ${formatDecimalBytes(r.bytesUpPerRoundPerClinic).padStart(9)}  ${formatDecimalBytes(r.bytesDownPerRoundPerClinic).padStart(10)}  ${String(r.msPerRound).padStart(8)}`,
    );
  }
  const c = report.clinics.map((x) => `${x.train.count} (${[0, 1, 2].map((k) => x.train.labels.filter((l) => l === k).length).join('/')})`);
  lines.push(`\n${report.clinics.length} clinics (${options.split}), training slides (per class): ${c.join(', ')}; ${report.test.count} test slides; ` +
    `D = ${options.dim}, signal tiles ${pct(options.signalFraction)}, aggregator ${aggregator}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
