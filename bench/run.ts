// Benchmark runner: `npm run bench -- <suite> [<suite> ...]` runs bench/<suite>.ts, whose `run()` returns
// `{ rows }`, and writes bench/results/<suite>.json (rows + machine) and bench/results/<suite>.md (a table).
// Speed and memory targets live here, never in timed unit tests: this 2-core machine is shared and noisy, so suites
// report medians and compare variants side by side in one run.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Suite {
  /** rows for the table, plus any headline figures the suite reports beside them */
  run(): Promise<{ rows: object[] } & Record<string, unknown>>;
}

function markdownTable(rows: object[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v ?? ''));
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => cell((r as Record<string, unknown>)[c])).join(' | ')} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  let suites: string[] = [];
  try {
    suites = parseArgs({ options: {}, allowPositionals: true }).positionals;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
  }
  const dir = import.meta.dirname;
  const known = ['coordinator', 'extraction-browser', 'fl', 'he', 'slide', 'vit', 'vit-browser'].filter((s) => existsSync(join(dir, `${s}.ts`)));
  if (suites.length === 0 || suites.some((s) => !known.includes(s))) {
    process.stderr.write(`usage: npm run bench -- <suite> [...]; suites: ${known.join(', ')}\n`);
    process.exit(2);
  }
  mkdirSync(join(dir, 'results'), { recursive: true });
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  // The 1-minute load average before and after each suite: this machine is shared, so a busy start is worth knowing.
  const load = () => Number(loadavg()[0]?.toFixed(2));
  for (const name of suites) {
    const loadBefore = load();
    const started = performance.now();
    const suite = (await import(`./${name}.ts`)) as Suite;
    const { rows, ...summary } = await suite.run();
    const seconds = (performance.now() - started) / 1000;
    const at = new Date().toISOString();
    const loadAverage = { before: loadBefore, after: load() };
    writeFileSync(join(dir, 'results', `${name}.json`), `${JSON.stringify({ suite: name, at, machine, loadAverage, seconds, ...summary, rows }, null, 2)}\n`);
    const headline = Object.entries(summary).map(([k, v]) => `- ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n');
    const table = `${headline ? `${headline}\n\n` : ''}${markdownTable(rows)}`;
    writeFileSync(join(dir, 'results', `${name}.md`), `# bench: ${name}\n\n${at} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}, load average ${loadAverage.before} before, ${loadAverage.after} after, ${seconds.toFixed(0)} s\n\n${table}\n`);
    process.stdout.write(`\n## ${name} (${seconds.toFixed(1)} s)\n\n${table}\n`);
  }
}

await main();
