// Test harness for the coordinator: the real service (Store + HE worker pool + Fastify) on a loopback port with a
// fresh data directory, and a small typed HTTP client. Used by the API, fuzz and crash tests; never by production.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { HeContext } from '../he/context.ts';
import { HeNodePool } from '../he/node-pool.ts';
import { startEmbeddedCoordinator } from './embedded.ts';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** One HE worker pool (a single thread) and an agg-v1 context for a test file: opened before its tests, closed after. */
export function sharedHe(): { readonly pool: HeNodePool; readonly ctx: HeContext } {
  const he = {} as { pool: HeNodePool; ctx: HeContext };
  beforeAll(async () => {
    he.pool = HeNodePool.start(1);
    he.ctx = await HeContext.create('agg-v1');
  });
  afterAll(async () => {
    he.ctx.dispose();
    await he.pool.close();
  });
  return he;
}

export interface RunningCoordinator {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startCoordinator(opts: { pool?: HeNodePool; env?: Record<string, string> } = {}): Promise<RunningCoordinator> {
  const coordinator = await startEmbeddedCoordinator({ ...opts, adminToken: TEST_ADMIN_TOKEN });
  return { url: coordinator.url, dataDir: coordinator.dataDir, stop: () => coordinator.close() };
}

/** A coordinator on a one-thread HE pool of the test's own, so that the test can also make the pool fail. */
export interface PooledCoordinator {
  pool: HeNodePool;
  coordinator: RunningCoordinator;
  call: HttpCall;
  stop(): Promise<void>;
}

export async function startPooledCoordinator(): Promise<PooledCoordinator> {
  const pool = HeNodePool.start(1);
  const coordinator = await startCoordinator({ pool });
  return {
    pool,
    coordinator,
    call: httpClient(coordinator.url),
    async stop() {
      await coordinator.stop();
      await pool.close();
    },
  };
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  bytes: Uint8Array;
  headers: Headers;
}

export function httpClient(base: string) {
  const call = async <T = unknown>(method: string, path: string, opts: { token?: string; json?: unknown; binary?: Uint8Array; raw?: string; contentType?: string } = {}): Promise<Reply<T>> => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: BodyInit | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.binary) {
      headers['content-type'] = 'application/octet-stream';
      body = opts.binary as BodyInit;
    } else if (opts.raw !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      body = opts.raw;
    }
    const response = await fetch(`${base}${path}`, { method, headers, body });
    const bytes = new Uint8Array(await response.arrayBuffer());
    let parsed: unknown = null;
    if ((response.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(new TextDecoder().decode(bytes));
    return { status: response.status, body: parsed as T, bytes, headers: response.headers };
  };
  return call;
}

export type HttpCall = ReturnType<typeof httpClient>;

export async function adminFederation(
  call: HttpCall,
  opts: { minClinics: number; invites: number; roundSeconds?: number; shape?: { ciphertextCount: number; scaleBits: number } },
): Promise<{ federationId: string; codes: string[] }> {
  const admin = { token: TEST_ADMIN_TOKEN };
  const created = await call<{ id: string }>('POST', '/api/admin/federations', {
    ...admin,
    json: { name: 'test', presetId: 'agg-v1', minClinics: opts.minClinics, ...(opts.roundSeconds ? { roundSeconds: opts.roundSeconds } : {}), ...opts.shape },
  });
  if (created.status !== 201) throw new Error(`create federation: ${created.status} ${JSON.stringify(created.body)}`);
  const invites = await call<{ codes: string[] }>('POST', `/api/admin/federations/${created.body.id}/invites`, { ...admin, json: { count: opts.invites } });
  return { federationId: created.body.id, codes: invites.body.codes };
}

export async function enrol(call: HttpCall, code: string, name: string): Promise<{ clinicId: string; token: string }> {
  const r = await call<{ clinicId: string; token: string }>('POST', '/api/enrol', { json: { inviteCode: code, clinicName: name } });
  if (r.status !== 201) throw new Error(`enrol ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * `main.ts` as its own process on `dataDir` (demo off, admin token TEST_ADMIN_TOKEN), resolved with its URL once it
 * prints it; `env` adds to this process's. `echo` copies its output to stderr (a test's debugging switch).
 */
export async function spawnCoordinator(dataDir: string, opts: { env?: Record<string, string>; logLevel?: string; echo?: boolean } = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'main.ts'), '--port', '0', '--data-dir', dataDir, '--demo', 'off', '--log-level', opts.logLevel ?? 'warn'], {
    // On Postgres, a job a killed process held comes back after pg-boss's shortest heartbeat and a 1 s retry delay.
    env: { ...process.env, ADMIN_TOKEN: TEST_ADMIN_TOKEN, RATE_LIMIT_PER_SECOND: '100000', JOB_HEARTBEAT_SECONDS: '10', JOB_RETRY_DELAY_SECONDS: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`coordinator did not start: ${out}`)), 60_000);
    const read = (chunk: Buffer) => {
      if (opts.echo) process.stderr.write(`[${child.pid}] ${chunk.toString()}`);
      out += chunk.toString();
      const match = /open (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`coordinator exited with ${code}: ${out}`)));
  });
  return { child, url };
}

/** SIGKILL, as a crash: resolves once the process is gone. */
export function killProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
