// Picks the stores from the configuration: the embedded defaults (node:sqlite state and filesystem blobs under the
// data directory, 0700), or Postgres state (DATABASE_URL) with blobs on the filesystem, in Postgres or in S3; and
// the job queue that goes with the state: in-process beside node:sqlite, pg-boss beside Postgres (imported only
// then, so the embedded coordinator never loads it).
import { join } from 'node:path';
import type { CoordinatorConfig } from '../config.ts';
import { InProcessQueue } from '../jobs/in-process.ts';
import type { JobLogger, JobQueue } from '../jobs/types.ts';
import { FsBlobStore, type WriteChunk } from './fs-blobs.ts';
import { PostgresBlobStore } from './postgres-blobs.ts';
import { PostgresDriver } from './postgres-driver.ts';
import { parseS3Url, S3BlobStore } from './s3-blobs.ts';
import { SqlStore } from './sql-store.ts';
import { SqliteStore } from './sqlite.ts';
import type { BlobStore, Store } from './types.ts';

export interface OpenStores {
  store: Store;
  blobs: BlobStore;
  /** The job queue on the same database; pg-boss installs or migrates its schema under the store's migration lock. */
  openJobs(log: JobLogger): Promise<JobQueue>;
}

export async function openStores(config: CoordinatorConfig, faults: { blobWrite?: WriteChunk } = {}): Promise<OpenStores> {
  let store: Store;
  let postgres: PostgresDriver | undefined;
  if (config.databaseUrl) {
    postgres = await PostgresDriver.open(config.databaseUrl);
    store = new SqlStore(postgres);
  } else {
    store = new SqliteStore(config.dataDir);
  }
  let blobs: BlobStore;
  if (config.blobStore === 'postgres' && postgres) blobs = new PostgresBlobStore(postgres);
  else if (config.blobStore.startsWith('s3://')) blobs = new S3BlobStore(parseS3Url(config.blobStore), config.s3Endpoint ? { endpoint: config.s3Endpoint } : {});
  else blobs = new FsBlobStore(join(config.dataDir, 'blobs'), { quotaBytes: config.blobQuotaBytes, ...(faults.blobWrite ? { write: faults.blobWrite } : {}) });
  const openJobs = async (log: JobLogger): Promise<JobQueue> => {
    if (!postgres || !config.databaseUrl) return new InProcessQueue();
    const driver = postgres;
    const { PgBossQueue } = await import('../jobs/pg-boss.ts');
    return PgBossQueue.open(config.databaseUrl, { ...config.jobs, aggregateWorkers: config.heWorkers }, log, (fn) => driver.withMigrationLock(fn));
  };
  return { store, blobs, openJobs };
}
