// The embedded defaults: node:sqlite state and filesystem blobs under the data directory (0700).
import { join } from 'node:path';
import type { CoordinatorConfig } from '../config.ts';
import { FsBlobStore, type WriteChunk } from './fs-blobs.ts';
import { SqliteStore } from './sqlite.ts';
import type { BlobStore, Store } from './types.ts';

export function openStores(config: CoordinatorConfig, faults: { blobWrite?: WriteChunk } = {}): { store: Store; blobs: BlobStore } {
  const store = new SqliteStore(config.dataDir);
  const blobs = new FsBlobStore(join(config.dataDir, 'blobs'), { quotaBytes: config.blobQuotaBytes, ...(faults.blobWrite ? { write: faults.blobWrite } : {}) });
  return { store, blobs };
}
