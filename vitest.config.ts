import { defineConfig } from 'vitest/config';

// Unit tests run in Node (the pinned Node 24) against the real node-seal and tfjs wasm backends.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
