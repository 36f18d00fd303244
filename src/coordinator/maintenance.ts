// Retention: uploads of closed rounds are deleted once their aggregate is stored (RETAIN_UPLOADS=on keeps them),
// an upload refused after its blob was written is deleted at once, blobs no row names (replaced keys and models,
// writes cut short by a crash) are collected at start, and expired demo federations are deleted with their blobs. Aggregates stay: they are the federation's model versions.
import type { BlobStore, Store } from './stores/types.ts';

export class Maintenance {
  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly retainUploads: boolean;

  constructor(store: Store, blobs: BlobStore, retainUploads: boolean) {
    this.store = store;
    this.blobs = blobs;
    this.retainUploads = retainUploads;
  }

  private async deleteUnreferenced(candidates: readonly string[]): Promise<number> {
    if (candidates.length === 0) return 0;
    const referenced = await this.store.referencedBlobs();
    let deleted = 0;
    for (const sha of new Set(candidates)) {
      if (referenced.has(sha)) continue;
      await this.blobs.delete(sha);
      deleted++;
    }
    return deleted;
  }

  /** After a round closes: its uploads' blobs go, unless retention is configured. */
  async afterRoundClosed(): Promise<void> {
    if (this.retainUploads) return;
    await this.deleteUnreferenced(await this.store.releaseClosedUploads());
  }

  /**
   * A blob written for an upload the store then refused (late, conflicting, wrong shape). Ciphertexts are randomised,
   * so no other in-flight upload has the same bytes; a blob some row does name stays.
   */
  async discardRefused(sha: string): Promise<void> {
    await this.deleteUnreferenced([sha]);
  }

  /**
   * Blobs no row names. A blob being written has no row yet, so with no `storedBefore` this is only safe while no
   * request is in flight anywhere (one process, at start); replicas sharing a store pass a time well before now.
   */
  async collectOrphans(storedBefore?: Date): Promise<number> {
    await this.afterRoundClosed();
    return this.deleteUnreferenced(await this.blobs.list(storedBefore));
  }

  async expireDemos(): Promise<string[]> {
    const { federations, blobs } = await this.store.deleteExpiredFederations(new Date().toISOString());
    await this.deleteUnreferenced(blobs);
    return federations;
  }

  /** Expires demo federations every minute; returns a function that stops the timer. */
  watch(onError: (e: unknown) => void): () => void {
    const timer = setInterval(() => void this.expireDemos().catch(onError), 60_000);
    timer.unref();
    return () => clearInterval(timer);
  }
}
