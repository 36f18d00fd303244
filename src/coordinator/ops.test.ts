// Liveness and readiness on the store the suite runs on (node:sqlite in the unit project, Postgres in the postgres one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
