// vitest globalSetup of the `postgres` project: one throwaway cluster for the whole run, named to every test file
// through CIPHERPATH_TEST_PG_CLUSTER.
import { startPostgresCluster } from '../postgres-cluster.ts';

export default async function setup(): Promise<() => void> {
  const cluster = await startPostgresCluster();
  process.env.CIPHERPATH_TEST_PG_CLUSTER = cluster.url;
  return () => cluster.stop();
}
