// Liveness and readiness on the store the suite runs on (node:sqlite in the unit project, Postgres in the postgres one).
// On Postgres, a database that stops taking connections makes /readyz answer 503 (a load balancer then sends the
// replica nothing) while /healthz stays 200, and readiness comes back with the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './stores/postgres-cluster.ts';
import { httpClient, type RunningCoordinator, startCoordinator } from './testing.ts';

let coordinator: RunningCoordinator;
beforeAll(async () => {
  coordinator = await startCoordinator();
});
afterAll(async () => {
  await coordinator.stop();
});

describe('ops', () => {
  it('answers /healthz and /readyz once the store is migrated', async () => {
    const call = httpClient(coordinator.url);
    expect((await call('GET', '/healthz')).status).toBe(200);
    const ready = await call<{ ok: boolean }>('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.ok).toBe(true);
  });

  const cluster = process.env.CIPHERPATH_TEST_PG_CLUSTER;
  it.skipIf(!cluster)('answers /readyz 503 while its Postgres database refuses connections, and 200 once it is back', async () => {
    const { default: pg } = await import('pg');
    const databaseUrl = await createTestDatabase(cluster as string);
    const name = new URL(databaseUrl).pathname.slice(1);
    const own = await startCoordinator({ env: { DATABASE_URL: databaseUrl } });
    const admin = new pg.Client({ connectionString: cluster });
    await admin.connect();
    try {
      const call = httpClient(own.url);
      expect((await call('GET', '/readyz')).status).toBe(200);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      const down = await call<{ error: string; message: string }>('GET', '/readyz');
      expect(down.status).toBe(503);
      expect(down.body.message).toMatch(/^the database does not answer: /);
      expect((await call('GET', '/healthz')).status).toBe(200);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      expect((await call('GET', '/readyz')).status).toBe(200);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
      await own.stop();
    }
  });
});
