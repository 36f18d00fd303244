// `npm run simulate -- --level slide ...`: the slide-level comparison (src/fl/slide-simulation.ts) against a real
// coordinator (started in this process, or running replicas): slide accuracy and macro AUC per run, encrypted vs unencrypted (accuracy
// difference and identical predictions), bytes and time per round, mean-pool (into each tile strategy) vs abmil.
import { formatDecimalBytes } from '../src/common/format-bytes.ts';
import type { AggregatorKind } from '../src/fl/simulation.ts';
import { simulateSlides, slideSimulationDocument } from '../src/fl/slide-simulation.ts';
import type { SlideSimulationOptions } from '../src/fl/slide-simulation.ts';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export async function runSlideLevel(options: Omit<SlideSimulationOptions, 'onRun' | 'aggregator' | 'startCoordinator'>, json: boolean, aggregator: AggregatorKind, startCoordinator: NonNullable<SlideSimulationOptions['startCoordinator']>): Promise<void> {
  const started = performance.now();
  const report = await simulateSlides({
    ...options,
    aggregator,
    startCoordinator,
    ...(json ? {} : { onRun: (r) => process.stdout.write(`${r.label} / ${r.domain}: ${r.rounds.map((x) => pct(x.accuracy)).join(' ')}\n`) }),
  });
  const document = slideSimulationDocument(report, { ...options, aggregator });
  if (json) {
    process.stdout.write(`${JSON.stringify(document)}\n`);
    return;
  }
  const lines = ['\nslide level (accuracy and AUC on test slides; bytes and ms per round per clinic)'];
  lines.push('strategy                domain        rounds  accuracy    AUC   Δ vs clear  agree     cts   up/round   down/round  ms/round');
  for (const r of document.runs) {
    lines.push(
      `${r.strategy.padEnd(23)} ${r.domain.padEnd(12)} ${String(r.rounds.length).padStart(6)}  ${pct(r.finalAccuracy).padStart(8)}  ${r.auc.toFixed(3)}  ` +
        `${(r.accuracyDeltaPp === null ? '-' : `${r.accuracyDeltaPp.toFixed(2)} pp`).padStart(10)}  ${(r.agreement === null ? '-' : pct(r.agreement)).padStart(7)}  ` +
        `${String(r.ciphertextsPerClinic).padStart(4)}  ${formatDecimalBytes(r.bytesUpPerRoundPerClinic).padStart(9)}  ${formatDecimalBytes(r.bytesDownPerRoundPerClinic).padStart(10)}  ${String(r.msPerRound).padStart(8)}`,
    );
  }
  const c = report.clinics.map((x) => `${x.train.count} (${[0, 1, 2].map((k) => x.train.labels.filter((l) => l === k).length).join('/')})`);
  lines.push(`\n${report.clinics.length} clinics (${options.split}), training slides (per class): ${c.join(', ')}; ${report.test.count} test slides; ` +
    `D = ${options.dim}, signal tiles ${pct(options.signalFraction)}, aggregator ${aggregator}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
