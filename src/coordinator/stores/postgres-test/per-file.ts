// vitest setupFile of the `postgres` project: each test file gets its own database as DATABASE_URL, which the
// coordinator processes a test spawns inherit (and reuse across their restarts, as a deployment would).
import { createTestDatabase } from '../postgres-cluster.ts';

const cluster = process.env.CIPHERPATH_TEST_PG_CLUSTER;
if (!cluster) throw new Error('the postgres test project needs its globalSetup (CIPHERPATH_TEST_PG_CLUSTER is unset)');
process.env.DATABASE_URL = await createTestDatabase(cluster);
