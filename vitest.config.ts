import { defineConfig } from 'vitest/config';

// Unit tests run in Node (the pinned Node 24) against the real node-seal and tfjs wasm backends. The `postgres`
// project runs the coordinator's store, API, fuzz and crash suites again on a throwaway Postgres cluster
// (Debian's postgresql; .ci/run installs it), so both stores pass the same tests.
const COORDINATOR_SUITES = ['src/coordinator/api.test.ts', 'src/coordinator/fuzz.test.ts', 'src/coordinator/crash.test.ts', 'src/coordinator/hostile-rounds.test.ts', 'src/coordinator/stores/store.test.ts', 'src/coordinator/storage-and-limits.test.ts', 'src/coordinator/ops.test.ts', 'src/coordinator/stores/blobs.test.ts', 'src/coordinator/jobs.test.ts', 'scripts/simulate-replicas.test.ts', 'scripts/replica-failover.test.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: COORDINATOR_SUITES,
          globalSetup: ['src/coordinator/stores/postgres-test/global-setup.ts'],
          setupFiles: ['src/coordinator/stores/postgres-test/per-file.ts'],
        },
      },
    ],
  },
});
