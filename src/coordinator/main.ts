// Entry point: `node src/coordinator/main.ts [--port N] [--data-dir DIR] ...` (npm start builds the SPA first).
import { HeNodePool } from '../he/node-pool.ts';
import { readConfig } from './config.ts';
import { newSecret } from './security.ts';
import { buildApp } from './app.ts';
import { createFederationWithInvites } from './federations.ts';
import { sha256Hex } from '../common/sha256.ts';
import { openStores } from './stores/open.ts';
import { ARMED_FAULT_POINT } from './fault-inject.ts';

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2), process.env);
  const { store, blobs } = await openStores(config);
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
  const { app, rounds, maintenance } = await buildApp({ config, store, blobs, pool, adminTokenHash });
  const collected = await maintenance.collectOrphans();
  if (collected) app.log.info({ collected }, 'orphaned blobs deleted');
  await rounds.resumeAfterRestart();
  const stopMaintenance = maintenance.watch((e) => app.log.error({ err: String(e) }, 'maintenance failed'));
  const stopDeadlines = rounds.watchDeadlines();

  const shutdown = async (signal: string): Promise<void> => {
    app.log.info({ signal }, 'shutting down');
    stopDeadlines();
    stopMaintenance();
    await app.close();
    await rounds.idle();
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
