// Bench suite `fl`: bytes per round per clinic for every strategy and domain of the federated simulation (3 clinics,
// 10 rounds, IID, the default synthetic [CLS] dataset, real coordinator in-process), with the traffic ratio against
// the gradient-encryption baseline (head + last ViT-B/16 block, 1,732 agg-v1 ciphertexts) and against the paper's
// 326 KB per round, plus each run's accuracy and mean time per phase. Run alone: node bench/fl.ts
import { DOMAIN_NAMES } from '../src/fl/channels.ts';
import { DEFAULT_SIMULATION, PAPER_BYTES_PER_ROUND, simulate, trafficRows } from '../src/fl/simulation.ts';
import { TILE_STRATEGY_NAMES } from '../src/fl/strategies/index.ts';
import { startEmbeddedCoordinator } from '../src/coordinator/embedded.ts';

export async function run(): Promise<{ rows: object[] }> {
  const { runs } = await simulate({ ...DEFAULT_SIMULATION, startCoordinator: startEmbeddedCoordinator, strategies: TILE_STRATEGY_NAMES, domains: DOMAIN_NAMES });
  const rows = trafficRows(runs).map((t, i) => {
    const r = runs[i]!;
    const phases = Object.keys(r.rounds[0]!.phaseMs) as (keyof (typeof r.rounds)[0]['phaseMs'])[];
    const meanMs = Object.fromEntries(phases.map((p) => [`${p}Ms`, r.rounds.reduce((s, x) => s + x.phaseMs[p], 0) / r.rounds.length]));
    return { suite: 'fl', split: DEFAULT_SIMULATION.split, clinics: DEFAULT_SIMULATION.clinics, paperBytesPerRound: PAPER_BYTES_PER_ROUND, ...t, ...meanMs };
  });
  return { rows };
}

if (import.meta.main) {
  const { rows } = await run();
  console.table(rows);
}
