// `npm run simulate -- --coordinator a,b --admin-token T` against coordinator processes (src/coordinator/main.ts):
// a wrong token or a dead URL is named before any training; on the postgres project, two replicas on one database
// and one blob store share the run, one is SIGKILLed mid-run, and the run ends as an embedded run of the same seed.
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedCoordinator } from '../src/coordinator/embedded.ts';
import { killProcess, spawnCoordinator, TEST_ADMIN_TOKEN } from '../src/coordinator/testing.ts';
import { connectReplicas } from '../src/fl/coordinator.ts';
import { DEFAULT_SIMULATION, simulate } from '../src/fl/simulation.ts';
import type { SimulationOptions } from '../src/fl/simulation.ts';

const script = new URL('./simulate.ts', import.meta.url).pathname;
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A coordinator process; under the postgres project it inherits that file's DATABASE_URL. REPLICA_LOG=<level> shows its log. */
async function startReplica(env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cipherpath-replica-'));
  dirs.push(dataDir);
  const started = await spawnCoordinator(dataDir, { env, logLevel: process.env.REPLICA_LOG ?? 'warn', echo: Boolean(process.env.REPLICA_LOG) });
  children.push(started.child);
  return started;
}

/** Uploads a replica accepted (2xx), from its Prometheus counters. */
async function uploadsServed(url: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const line = text.split('\n').find((l) => l.startsWith('cipherpath_http_requests_total{') && l.includes('"/api/federations/:fid/rounds/:round/uploads"') && l.includes('"2xx"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A loopback URL whose port was just freed: connecting is refused. */
async function freedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const exec = (args: string[]) => promisify(execFile)(process.execPath, [script, ...args], { maxBuffer: 16 * 1024 * 1024 }).then(
  () => ({ code: 0, stderr: '' }),
  (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
);

describe('simulate --coordinator', () => {
  it('names a wrong admin token (the 401) and a replica that refuses, before any training', async () => {
    const { child, url } = await startReplica();
    const wrong = await exec(['--coordinator', url, '--admin-token', 'not-the-admin-token-000', '--domain', 'encrypted', '--rounds', '1']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`coordinator ${url.replace(/\/$/, '')}: GET /api/admin/federations: HTTP 401 unauthorized: the admin bearer token is required`);
    const dead = await freedUrl();
    const refused = await exec(['--coordinator', `${url},${dead}`, '--admin-token', TEST_ADMIN_TOKEN, '--rounds', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`coordinator ${dead}: GET /api/admin/federations: no coordinator answered (${dead}: ECONNREFUSED)`);
    const usage = await exec(['--coordinator', 'localhost:8080', '--admin-token', TEST_ADMIN_TOKEN]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("simulate: --coordinator: 'localhost:8080' is not an http:// or https:// URL");
    // On Postgres it shares the file's database but keeps blobs on its own disk: it must not watch the next test's rounds.
    await killProcess(child);
  });

  // Two processes on one SQLite file are not supported; replicas share state only through Postgres (the postgres
  // project's per-file DATABASE_URL; the unit project may see the cluster variable but has no database of its own).
  it.skipIf(!process.env.DATABASE_URL)('survives a replica SIGKILLed mid-run: same accuracy as an embedded run, both replicas served uploads', async () => {
    const rounds = 3;
    const clinics = 4;
    const options: Omit<SimulationOptions, 'startCoordinator'> = {
      ...DEFAULT_SIMULATION,
      clinics,
      rounds,
      strategies: ['fedavg-head'],
      domains: ['encrypted'],
      seed: 7,
      trainPerClass: 60,
      testPerClass: 40,
      dim: 16,
      training: { ...DEFAULT_SIMULATION.training, epochs: 1 },
    };
    const embedded = await simulate({ ...options, startCoordinator: () => startEmbeddedCoordinator() });

    const shared = { BLOB_STORE: 'postgres' };
    const a = await startReplica(shared);
    const b = await startReplica(shared);
    // Clinics 1 and 3 start on b. Once b has taken their first uploads it is killed without warning; the watcher
    // of a finishes any aggregation b held, and every later call of those clinics moves to a.
    let servedByB = 0;
    const killB = (async () => {
      while (servedByB < 2) {
        servedByB = await uploadsServed(b.url);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await killProcess(b.child);
    })();
    const replicated = await simulate({ ...options, startCoordinator: () => connectReplicas([a.url, b.url], TEST_ADMIN_TOKEN) });
    await killB;

    expect(replicated.runs[0]?.rounds).toHaveLength(rounds);
    expect(replicated.runs[0]?.finalAccuracy).toBe(embedded.runs[0]?.finalAccuracy);
    expect(replicated.runs[0]?.rounds.map((r) => r.accuracy)).toEqual(embedded.runs[0]?.rounds.map((r) => r.accuracy));
    // b was killed mid-run (it did not take its clinics' uploads of every round); a took the rest.
    expect(servedByB).toBeGreaterThanOrEqual(2);
    expect(servedByB).toBeLessThan(2 * rounds);
    expect(await uploadsServed(a.url)).toBeGreaterThanOrEqual(clinics * rounds - servedByB);
  });
});
