// Blobs as Postgres bytea rows keyed by their SHA-256 (BLOB_STORE=postgres), for replicas that share no disk.
// Ciphertexts are a few MB, well inside bytea's 1 GB, and always read whole. Every read is re-hashed; the same
// bytes put twice are one row; a full disk is StorageFull with nothing stored.
import { sha256Hex } from '../../common/sha256.ts';
import type { PostgresDriver } from './postgres-driver.ts';
import type { BlobStore } from './types.ts';

export class PostgresBlobStore implements BlobStore {
  private readonly db: PostgresDriver;

  constructor(db: PostgresDriver) {
    this.db = db;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    // The same bytes again only renew stored_at (orphan collection's grace), they are not rewritten.
    await this.db.run('INSERT INTO blobs (sha256, data) VALUES (?, ?) ON CONFLICT (sha256) DO UPDATE SET stored_at = now()', sha, bytes);
    return sha;
  }

  async get(sha: string): Promise<Uint8Array> {
    const row = await this.db.get('SELECT data FROM blobs WHERE sha256 = ?', sha);
    if (!row) throw new Error(`blob ${sha} is missing`);
    const bytes = new Uint8Array(row.data as Buffer);
    if (sha256Hex(bytes) !== sha) throw new Error(`blob ${sha} is corrupt (its bytes hash to something else); it was not served`);
    return bytes;
  }

  async delete(sha: string): Promise<void> {
    await this.db.run('DELETE FROM blobs WHERE sha256 = ?', sha);
  }

  async list(storedBefore?: Date): Promise<string[]> {
    const rows = storedBefore ? await this.db.all('SELECT sha256 FROM blobs WHERE stored_at < ?', storedBefore.toISOString()) : await this.db.all('SELECT sha256 FROM blobs');
    return rows.map((r) => r.sha256 as string);
  }

  async usage(): Promise<number> {
    return Number((await this.db.get('SELECT CAST(COALESCE(SUM(octet_length(data)), 0) AS BIGINT) AS n FROM blobs'))?.n ?? 0);
  }
}
