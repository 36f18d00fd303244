// The production coordinator started inside the calling process: the simulator, the benchmarks and the tests use
// it to run rounds against the real service (Fastify + node:sqlite + HE worker pool) on 127.0.0.1 with an ephemeral
// port and a temporary data directory that close() removes. Under the `postgres` test project
// (CIPHERPATH_TEST_PG_CLUSTER) each embedded coordinator gets a fresh Postgres database instead of node:sqlite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeNodePool } from '../he/node-pool.ts';
import { readConfig } from './config.ts';
import { newSecret } from './security.ts';
import { buildApp } from './app.ts';
import { sha256Hex } from '../common/sha256.ts';
import type { WriteChunk } from './stores/fs-blobs.ts';
import { openStores } from './stores/open.ts';
import { createTestDatabase } from './stores/postgres-cluster.ts';

export interface EmbeddedCoordinator {
  url: string;
  adminToken: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startEmbeddedCoordinator(opts: { pool?: HeNodePool; heWorkers?: number; adminToken?: string; env?: Record<string, string>; blobWrite?: WriteChunk } = {}): Promise<EmbeddedCoordinator> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cipherpath-coordinator-'));
  const adminToken = opts.adminToken ?? newSecret(24);
  const config = readConfig([], {
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    STATIC_DIR: join(dataDir, 'no-spa'),
    HE_WORKERS: String(opts.heWorkers ?? 1),
    LOG_LEVEL: 'silent',
    // Simulated clinics share one address; the rate limiter is not what these callers exercise.
    RATE_LIMIT_PER_SECOND: '100000',
    // On Postgres, a job whose holder died comes back after pg-boss's shortest heartbeat and a 1 s retry delay.
    JOB_HEARTBEAT_SECONDS: '10',
    JOB_RETRY_DELAY_SECONDS: '1',
    ...(process.env.CIPHERPATH_TEST_PG_CLUSTER ? { DATABASE_URL: await createTestDatabase(process.env.CIPHERPATH_TEST_PG_CLUSTER) } : {}),
    ...opts.env,
  });
  const { store, blobs, openJobs } = await openStores(config, { ...(opts.blobWrite ? { blobWrite: opts.blobWrite } : {}) });
  const pool = opts.pool ?? HeNodePool.start(config.heWorkers);
  const cleanup = async () => {
    if (!opts.pool) await pool.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const { app, rounds, maintenance, jobs } = await buildApp({ config, store, blobs, pool, adminTokenHash: sha256Hex(adminToken), openJobs });
    const stopRounds = rounds.watchRounds();
    const stopMaintenance = maintenance.watch((e) => app.log.error({ err: String(e) }, 'maintenance failed'));
    const url = await app.listen({ host: config.host, port: 0 });
    return {
      url,
      adminToken,
      dataDir,
      async close() {
        stopRounds();
        stopMaintenance();
        await app.close();
        await jobs.stop();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
