// Entry point: `node src/coordinator/main.ts [--port N] [--data-dir DIR] ...` (npm start builds the SPA first).
import { HeNodePool } from '../he/node-pool.ts';
import { readConfig } from './config.ts';
import { newSecret } from './security.ts';
import { buildApp } from './app.ts';
import { createFederationWithInvites } from './federations.ts';
import { sha256Hex } from '../common/sha256.ts';
import { openStores } from './stores/open.ts';
import { ARMED_FAULT_POINT } from './fault-inject.ts';

/** A put is recorded within seconds (an upload, a key, a model); an hour leaves room for a stalled request. */
const SHARED_ORPHAN_GRACE_MS = 60 * 60 * 1000;

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2), process.env);
  const { store, blobs, openJobs } = await openStores(config);
  const firstStart = (await store.getMeta('admin_token_hash')) === undefined;

  let printedAdminToken: string | undefined;
  if (config.adminToken) {
    await store.setMeta('admin_token_hash', sha256Hex(config.adminToken));
  } else if (firstStart) {
    printedAdminToken = newSecret(24);
    await store.setMeta('admin_token_hash', sha256Hex(printedAdminToken));
  }
  const adminTokenHash = (await store.getMeta('admin_token_hash')) as string;

  let demoInvites: string[] = [];
  if (config.demo && (await store.listFederations()).length === 0) {
    demoInvites = (await createFederationWithInvites(store, { name: 'Demo federation', presetId: 'agg-v1', strategy: 'prototypes', minClinics: 3, roundSeconds: 600 }, 3)).codes;
  }

  const pool = HeNodePool.start(config.heWorkers);
  const { app, rounds, maintenance, jobs } = await buildApp({ config, store, blobs, pool, adminTokenHash, openJobs });
  // Other replicas may share the blob store and be between a put and its row: theirs are spared for a grace period.
  const collected = await maintenance.collectOrphans(config.databaseUrl ? new Date(Date.now() - SHARED_ORPHAN_GRACE_MS) : undefined);
  if (collected) app.log.info({ collected }, 'orphaned blobs deleted');
  // What a restart must pick up: due rounds, and aggregating rounds whose job was lost with the process.
  await rounds.sweep();
  const stopMaintenance = maintenance.watch((e) => app.log.error({ err: String(e) }, 'maintenance failed'));
  const stopRounds = rounds.watchRounds();

  const shutdown = async (signal: string): Promise<void> => {
    app.log.info({ signal }, 'shutting down');
    stopRounds();
    stopMaintenance();
    await app.close();
    // Waits for the jobs running here (pg-boss: then closes its pool) before their HE pool and store go.
    await jobs.stop();
    await pool.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('://127.0.0.1', '://localhost');
  const lines = [`cipherpath coordinator ready: open ${url}`, `data directory: ${config.dataDir}`];
  if (printedAdminToken) lines.push(`admin token (shown once, stored only as a hash): ${printedAdminToken}`);
  if (demoInvites.length) lines.push(`demo federation invite codes: ${demoInvites.join('  ')}`);
  if (ARMED_FAULT_POINT) lines.push(`FAULT_INJECT=${ARMED_FAULT_POINT}: a test hook; this process SIGKILLs itself at that point of a round`);
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`cipherpath coordinator failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
