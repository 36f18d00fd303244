// `npm run simulate -- --clinics 3 --rounds 10 --strategy <name|all> --domain <name|all> --split <iid|label-skew|quantity-skew> [--json]`
// Runs the federated strategies on the synthetic [CLS] dataset against a real coordinator started in this process
// (src/fl/simulation.ts), or with `--coordinator <url>[,<url>…] --admin-token <token>` against running replicas
// (clinics spread round-robin, a refused call moved to the next replica) and prints, per round, accuracy, bytes up and down per clinic and the time of each phase;
// then the comparison of each encrypted run with its unencrypted twin and the traffic against the gradient-encryption
// baseline and the paper's 326 KB. With --json: one JSON document on stdout. Bad flags: a message and exit code 2.
import { formatDecimalBytes } from '../src/common/format-bytes.ts';
import { DOMAIN_NAMES } from '../src/fl/channels.ts';
import type { DomainName } from '../src/fl/channels.ts';
import { SPLIT_NAMES } from '../src/fl/dataset.ts';
import type { SplitName } from '../src/fl/dataset.ts';
import { DEFAULT_SIMULATION, PAPER_BYTES_PER_ROUND, compareRuns, roundsDocument, simulate, trafficRows } from '../src/fl/simulation.ts';
import type { AggregatorKind, SimulationOptions, SimulationRun } from '../src/fl/simulation.ts';
import { parseArgs as parseArgv } from 'node:util';
import { DEFAULT_SLIDE_SIMULATION } from '../src/fl/slide-simulation.ts';
import type { SlideSimulationOptions } from '../src/fl/slide-simulation.ts';
import { SLIDE_STRATEGY_NAMES, TILE_STRATEGY_NAMES } from '../src/fl/strategies/index.ts';
import type { SlideStrategyName, TileStrategyName } from '../src/fl/strategies/index.ts';
import { runSlideLevel } from './simulate-slides.ts';
import { startEmbeddedCoordinator } from '../src/coordinator/embedded.ts';
import { TOKEN_PATTERN } from '../src/coordinator/security.ts';
import { connectReplicas } from '../src/fl/coordinator.ts';
import type { LocalCoordinator } from '../src/fl/coordinator.ts';
import { parseReplicaUrls } from '../src/fl/replicas.ts';

export class UsageError extends Error {}

const USAGE = `usage: node scripts/simulate.ts [--level tile|slide] [--clinics N] [--rounds N]
         [--strategy ${TILE_STRATEGY_NAMES.join('|')}|all (tile) | ${SLIDE_STRATEGY_NAMES.join('|')}|all (slide)]
         [--domain ${DOMAIN_NAMES.join('|')}|all] [--split ${SPLIT_NAMES.join('|')}] [--json]
         [--seed N] [--train-per-class N] [--test-per-class N] [--local-epochs N] [--dim D] [--signal-fraction F (slide)] [--aggregator coordinator|in-process]
         [--coordinator <url>[,<url>...] --admin-token <token>] (running replicas instead of an embedded coordinator)`;

const VALUE_FLAGS = ['--level', '--clinics', '--rounds', '--strategy', '--domain', '--split', '--seed', '--train-per-class', '--test-per-class', '--local-epochs', '--dim', '--signal-fraction', '--aggregator', '--coordinator', '--admin-token'];
const OPTIONS = Object.fromEntries([...VALUE_FLAGS.map((f) => [f.slice(2), { type: 'string' as const }]), ['json', { type: 'boolean' as const }], ['help', { type: 'boolean' as const, short: 'h' }]]);
type Level = 'tile' | 'slide';
const LEVELS: readonly Level[] = ['tile', 'slide'];

function integer(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got '${raw}'`);
  }
  return value;
}

function oneOf<T extends string>(flag: string, raw: string, names: readonly T[], all: boolean): T[] {
  if (all && raw === 'all') return [...names];
  if (!(names as readonly string[]).includes(raw)) {
    throw new UsageError(`${flag} must be one of ${[...names, ...(all ? ['all'] : [])].join(', ')}; got '${raw}'`);
  }
  return [raw as T];
}

export interface CliOptions {
  json: boolean;
  level: Level;
  simulation: Omit<SimulationOptions, 'onRun'>;
  /** --level slide: the slide simulation's options (without the coordinator). */
  slides?: Omit<SlideSimulationOptions, 'onRun' | 'aggregator' | 'startCoordinator'>;
  /** --aggregator: the real coordinator (default) or the HE core's in-process sum. */
  aggregator?: AggregatorKind;
  /** --coordinator/--admin-token: running replicas to use instead of a coordinator started in this process. */
  replicas?: { urls: string[]; adminToken: string };
}

export function parseArgs(argv: readonly string[]): CliOptions {
  let json = false;
  let level: Level = 'tile';
  let strategies: string[] | 'all' = 'all';
  let domains: DomainName[] = [...DOMAIN_NAMES];
  const sim: Omit<SimulationOptions, 'onRun' | 'strategies' | 'domains'> = { ...DEFAULT_SIMULATION, training: { ...DEFAULT_SIMULATION.training } };
  let signalFraction = DEFAULT_SLIDE_SIMULATION.signalFraction;
  let replicaUrls: string[] | undefined;
  let adminToken: string | undefined;
  const seen = new Set<string>();
  // node:util parseArgs tokenises (--flag value, --flag=value); the checks and messages are ours, so strict is off.
  const { tokens } = parseArgv({ args: [...argv], options: OPTIONS, strict: false, tokens: true, allowPositionals: true });
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`unexpected argument '${token.value}'`);
    if (token.kind !== 'option') continue;
    const flag = token.rawName.startsWith('--') ? `--${token.name}` : token.rawName;
    if (seen.has(flag)) throw new UsageError(`${flag} is given twice`);
    seen.add(flag);
    if (flag === '--json') {
      if (token.inlineValue) throw new UsageError('--json takes no value');
      json = true;
      continue;
    }
    if (flag === '--help' || flag === '-h') throw new UsageError('help');
    if (!VALUE_FLAGS.includes(flag)) throw new UsageError(`unknown option '${flag}'`);
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case '--level':
        level = oneOf<Level>(flag, value, LEVELS, false)[0] as Level;
        break;
      case '--clinics':
        sim.clinics = integer(flag, value, 1, 100);
        break;
      case '--rounds':
        sim.rounds = integer(flag, value, 1, 1000);
        break;
      case '--strategy':
        strategies = value === 'all' ? 'all' : [value];
        break;
      case '--domain':
        domains = oneOf(flag, value, DOMAIN_NAMES, true);
        break;
      case '--split':
        sim.split = oneOf<SplitName>(flag, value, SPLIT_NAMES, false)[0] as SplitName;
        break;
      case '--seed':
        sim.seed = integer(flag, value, 0, 2 ** 32 - 1);
        break;
      case '--train-per-class':
        sim.trainPerClass = integer(flag, value, 10, 100_000);
        break;
      case '--test-per-class':
        sim.testPerClass = integer(flag, value, 1, 100_000);
        break;
      case '--local-epochs':
        sim.training.epochs = integer(flag, value, 1, 100);
        break;
      case '--aggregator':
        sim.aggregator = oneOf<AggregatorKind>(flag, value, ['coordinator', 'in-process'], false)[0] as AggregatorKind;
        break;
      case '--dim':
        sim.dim = integer(flag, value, 1, 4096);
        break;
      case '--signal-fraction':
        signalFraction = Number(value);
        if (!/^(0?\.\d+|1(\.0*)?)$/.test(value) || !(signalFraction > 0 && signalFraction <= 1)) throw new UsageError(`--signal-fraction must be a number in (0, 1], got '${value}'`);
        break;
      case '--coordinator':
        try {
          replicaUrls = parseReplicaUrls(value);
        } catch (e) {
          throw new UsageError(`--coordinator: ${(e as Error).message}`);
        }
        break;
      case '--admin-token':
        if (!TOKEN_PATTERN.test(value)) throw new UsageError('--admin-token must be 16 to 128 characters of A-Z, a-z, 0-9, \'_\' and \'-\' (the coordinator\'s ADMIN_TOKEN)');
        adminToken = value;
        break;
    }
  }
  if (replicaUrls && !adminToken) throw new UsageError('--coordinator needs --admin-token (the replicas\' ADMIN_TOKEN) to create its federations');
  if (adminToken && !replicaUrls) throw new UsageError('--admin-token applies to --coordinator only');
  if (replicaUrls && sim.aggregator === 'in-process') throw new UsageError('--coordinator and --aggregator in-process exclude each other');
  const replicas = replicaUrls && adminToken ? { replicas: { urls: replicaUrls, adminToken } } : {};
  const names: readonly string[] = level === 'tile' ? TILE_STRATEGY_NAMES : SLIDE_STRATEGY_NAMES;
  const chosen = strategies === 'all' ? [...names] : oneOf("--strategy", strategies[0] as string, names, true);
  if (level === 'slide') {
    if (!seen.has('--train-per-class')) sim.trainPerClass = DEFAULT_SLIDE_SIMULATION.trainPerClass;
    if (!seen.has('--test-per-class')) sim.testPerClass = DEFAULT_SLIDE_SIMULATION.testPerClass;
    if (!seen.has('--dim')) sim.dim = DEFAULT_SLIDE_SIMULATION.dim;
    if (!seen.has('--split')) sim.split = DEFAULT_SLIDE_SIMULATION.split;
    if (!seen.has('--rounds')) sim.rounds = DEFAULT_SLIDE_SIMULATION.rounds;
    if (sim.clinics * 10 > sim.trainPerClass * 3) throw new UsageError(`--train-per-class ${sim.trainPerClass} gives ${sim.trainPerClass * 3} slides, too few for ${sim.clinics} clinics (10 each)`);
    return { json, level, simulation: { ...sim, strategies: TILE_STRATEGY_NAMES, domains }, slides: { ...DEFAULT_SLIDE_SIMULATION, ...sim, domains, strategies: chosen as SlideStrategyName[], signalFraction }, aggregator: sim.aggregator, ...replicas };
  }
  if (seen.has('--signal-fraction')) throw new UsageError('--signal-fraction applies to --level slide only');
  // Every clinic needs tokens to train and validate on (splitClinics gives each at least 20).
  if (sim.clinics * 20 > sim.trainPerClass * 3) {
    throw new UsageError(`--train-per-class ${sim.trainPerClass} gives ${sim.trainPerClass * 3} tokens, too few for ${sim.clinics} clinics (20 each)`);
  }
  return { json, level, simulation: { ...sim, strategies: chosen as TileStrategyName[], domains }, ...replicas };
}


const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const ms = (x: number) => x.toFixed(0).padStart(5);

function printRun(run: SimulationRun): void {
  const out: string[] = [`\n${run.strategy} / ${run.domain} / ${run.split}`];
  out.push('round  accuracy   up/clinic    down/clinic  cts | ms: train encrypt upload aggregate download decrypt evaluate');
  for (const r of run.rounds) {
    const p = r.phaseMs;
    out.push(
      `${String(r.round).padStart(5)}  ${pct(r.accuracy).padStart(8)}  ${formatDecimalBytes(r.bytesUpPerClinic).padStart(10)}  ${formatDecimalBytes(r.bytesDownPerClinic).padStart(11)}  ${String(r.ciphertextsPerClinic).padStart(4)} |` +
        `${ms(p.train)} ${ms(p.encrypt)}   ${ms(p.upload)}     ${ms(p.aggregate)}    ${ms(p.download)}   ${ms(p.decrypt)}    ${ms(p.evaluate)}` +
        (r.present.length < run.rounds[0]!.validationAccuracy.length ? `  (present: clinics ${r.present.join(', ')})` : ''),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function comparisons(runs: readonly SimulationRun[]) {
  return runs
    .filter((r) => r.domain !== 'unencrypted')
    .flatMap((r) => {
      const plain = runs.find((p) => p.strategy === r.strategy && p.domain === 'unencrypted');
      return plain ? [{ strategy: r.strategy, domain: r.domain, versus: 'unencrypted', ...compareRuns(r, plain) }] : [];
    });
}

async function main(): Promise<void> {
  let cli: CliOptions;
  try {
    cli = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(e.message === 'help' ? `${USAGE}\n` : `simulate: ${e.message}\n${USAGE}\n`);
    process.exit(e.message === 'help' ? 0 : 2);
  }
  const { replicas } = cli;
  const startCoordinator = replicas ? (): Promise<LocalCoordinator> => connectReplicas(replicas.urls, replicas.adminToken) : startEmbeddedCoordinator;
  if (cli.slides) {
    await runSlideLevel(cli.slides, cli.json, cli.aggregator ?? 'coordinator', startCoordinator);
    return;
  }
  const started = performance.now();
  const report = await simulate({ ...cli.simulation, startCoordinator, ...(cli.json ? {} : { onRun: printRun }) });
  const traffic = trafficRows(report.runs);
  const compared = comparisons(report.runs);
  if (cli.json) {
    const { simulation } = cli;
    const document = {
      settings: { ...simulation, paperBytesPerRound: PAPER_BYTES_PER_ROUND, accuracyUnit: 'fraction of test tokens' },
      runs: report.runs.map((r) => ({
        strategy: r.strategy,
        domain: r.domain,
        split: r.split,
        finalAccuracy: r.finalAccuracy,
        rounds: roundsDocument(r.rounds),
      })),
      comparisons: compared,
      traffic,
    };
    process.stdout.write(`${JSON.stringify(document)}\n`);
    return;
  }
  const lines = ['\nsummary (bytes per clinic; "x less" = gradient-encryption bytes / this run\'s; paper = 326,000 B per round)'];
  lines.push('strategy     domain               rounds  accuracy  Δ vs clear  agree    up/round     up total     x less/round  x less total  vs paper');
  for (const t of traffic) {
    const c = compared.find((x) => x.strategy === t.strategy && x.domain === t.domain);
    lines.push(
      `${t.strategy.padEnd(12)} ${t.domain.padEnd(20)} ${String(t.rounds).padStart(6)}  ${pct(t.finalAccuracy).padStart(8)}  ` +
        `${(c ? `${c.accuracyDeltaPp.toFixed(2)} pp` : '-').padStart(10)}  ${(c ? pct(c.agreement) : '-').padStart(7)}  ` +
        `${formatDecimalBytes(t.bytesUpPerRoundPerClinic).padStart(10)}  ${formatDecimalBytes(t.bytesUpTotalPerClinic).padStart(11)}  ` +
        `${(t.savingVsGradientPerRound === null ? '-' : `${t.savingVsGradientPerRound.toFixed(1)}x`).padStart(12)}  ` +
        `${(t.savingVsGradientTotal === null ? '-' : `${t.savingVsGradientTotal.toFixed(1)}x`).padStart(12)}  ${t.ratioToPaperPerRound.toFixed(3)}x`,
    );
  }
  lines.push(`\n${report.clinics.length} clinics (${cli.simulation.split}): ${report.clinics.map((c) => c.train.count).join(' / ')} training tokens, ` +
    `${report.test.count} test tokens; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.main) {
  main().catch((e: unknown) => {
    process.stderr.write(`simulate failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
