// Round lifecycle: collecting → aggregating → closed (or failed). A round aggregates as soon as every enrolled
// clinic has uploaded, or at its deadline if at least the quorum has; below the quorum it keeps collecting. The
// close is a compare-and-set, so it happens once however many requests race. Aggregation never wedges a round: an
// upload that cannot be added to the others (another scale or count, a corrupt blob) is quarantined and the round
// closes with the rest if the quorum still holds, otherwise it fails visibly and the next round opens. A round left
// 'aggregating' by a crash is picked up again by the watcher. The sum runs in the HE worker pool, never on the
// event loop.
import { HeError } from '../he/errors.ts';
import type { HeNodePool } from '../he/node-pool.ts';
import type { PresetId } from '../he/params.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { crashPoint } from './fault-inject.ts';
import type { Metrics } from './metrics.ts';
import type { BlobStore, Store, UploadRow } from './stores/types.ts';

export interface RoundLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Contribution {
  upload: UploadRow;
  parts: Uint8Array[];
}

export class RoundRunner {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly pool: HeNodePool;
  private readonly log: RoundLogger;
  private readonly metrics: Metrics;
  /** Called after a round closes (retention of its uploads). */
  onClosed: (() => Promise<void>) | undefined;

  constructor(deps: { store: Store; blobs: BlobStore; pool: HeNodePool; log: RoundLogger; metrics: Metrics }) {
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.pool = deps.pool;
    this.log = deps.log;
    this.metrics = deps.metrics;
  }

  /** Starts aggregation when due; resolves when the round is closed or failed (or at once if not due). */
  maybeAggregate(federationId: string, round: number): Promise<void> {
    const key = `${federationId}#${round}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const job = this.closeIfDue(federationId, round)
      .catch((e: unknown) => {
        // A failure of the HE pool itself leaves the round 'aggregating'; the watcher retries it.
        this.log.error({ federationId, round, err: String(e) }, 'aggregation failed');
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, job);
    return job;
  }

  private async closeIfDue(federationId: string, round: number): Promise<void> {
    const federation = await this.store.getFederation(federationId);
    const state = await this.store.getRound(federationId, round);
    if (!federation || !state || (state.status !== 'collecting' && state.status !== 'aggregating')) return;
    if (state.status === 'collecting') {
      const uploads = (await this.store.uploadsFor(federationId, round)).filter((u) => !u.quarantined).length;
      const everyone = uploads >= (await this.store.clinicsOf(federationId)).length;
      const pastDeadline = Date.parse(state.deadlineAt) <= Date.now();
      if (uploads < federation.minClinics || !(everyone || pastDeadline)) return;
      crashPoint('before-close');
      if (!(await this.store.tryClose(federationId, round))) return;
    }
    await this.aggregate(federationId, federation.presetId, federation.minClinics, round);
  }

  private async aggregate(federationId: string, presetId: PresetId, quorum: number, round: number): Promise<void> {
    const started = performance.now();
    const spec = (await this.store.getRound(federationId, round))?.spec;
    const contributions: Contribution[] = [];
    for (const upload of (await this.store.uploadsFor(federationId, round)).filter((u) => !u.quarantined)) {
      try {
        const parts = decodeBundle(await this.blobs.get(upload.sha256));
        if (spec?.ciphertextCount != null && parts.length !== spec.ciphertextCount) throw new Error(`${parts.length} ciphertexts, the round takes ${spec.ciphertextCount}`);
        contributions.push({ upload, parts });
      } catch (e) {
        // False: another replica closed the round meanwhile (its retention removed the blobs); nothing left to do here.
        if (!(await this.store.quarantine(federationId, round, upload.clinicId, `unreadable upload: ${(e as Error).message}`))) return;
      }
    }
    const kept = await this.compatible(presetId, federationId, round, contributions);
    if (kept.length < quorum) {
      // failRound is a compare-and-set: false when another replica has closed the round meanwhile.
      if (await this.store.failRound(federationId, round, `only ${kept.length} usable upload(s) after quarantine; the quorum is ${quorum}`)) {
        this.log.error({ federationId, round, usable: kept.length, quorum }, 'round failed');
      }
      return;
    }
    const sum = await this.pool.sumCiphertexts(presetId, federationId, kept.map((c) => c.parts));
    const sha = await this.blobs.put(encodeBundle(sum));
    crashPoint('before-complete');
    if (!(await this.store.completeAggregation(federationId, round, { aggregateSha: sha, ciphertextCount: sum.length, clinics: kept.length }))) return;
    this.metrics.inc('cipherpath_rounds_closed_total');
    this.metrics.inc('cipherpath_aggregation_seconds_sum', {}, (performance.now() - started) / 1000);
    this.log.info({ federationId, round, clinics: kept.length, ms: Math.round(performance.now() - started) }, 'round aggregated');
    await this.onClosed?.();
  }

  /**
   * The largest set of contributions SEAL can add together. When the whole sum fails for a reason in the inputs,
   * contributions are grouped by pairwise compatibility with each group's first member; the largest group is kept
   * and every other contribution is quarantined with SEAL's reason.
   */
  private async compatible(presetId: PresetId, federationId: string, round: number, all: Contribution[]): Promise<Contribution[]> {
    if (all.length < 2) return all;
    try {
      await this.pool.sumCiphertexts(presetId, federationId, all.map((c) => c.parts));
      return all;
    } catch (e) {
      if (!(e instanceof HeError) || e.code === 'worker') throw e;
    }
    const groups: Contribution[][] = [];
    const reasons = new Map<Contribution, string>();
    for (const c of all) {
      let placed = false;
      for (const group of groups) {
        try {
          await this.pool.sumCiphertexts(presetId, federationId, [(group[0] as Contribution).parts, c.parts]);
          group.push(c);
          placed = true;
          break;
        } catch (e) {
          if (!(e instanceof HeError) || e.code === 'worker') throw e;
          reasons.set(c, e.message);
        }
      }
      if (!placed) groups.push([c]);
    }
    const kept = groups.reduce((a, b) => (b.length > a.length ? b : a));
    for (const c of all) {
      if (!kept.includes(c) && !(await this.store.quarantine(federationId, round, c.upload.clinicId, `cannot be added to the other uploads: ${reasons.get(c) ?? 'incompatible'}`))) return [];
    }
    return kept;
  }

  async resumeAfterRestart(): Promise<void> {
    const pending = [...(await this.store.roundsWithStatus('aggregating')), ...(await this.store.roundsWithStatus('collecting'))];
    await Promise.all(pending.map((r) => this.maybeAggregate(r.federationId, r.round)));
  }

  /**
   * Once a second: collecting rounds that are due (past their deadline, or complete: a replica killed between a
   * round's last upload and its close leaves one no request will touch again), and rounds stuck 'aggregating'.
   */
  watchDeadlines(): () => void {
    const timer = setInterval(() => {
      void (async () => {
        for (const r of await this.store.roundsWithStatus('collecting')) void this.maybeAggregate(r.federationId, r.round);
        for (const r of await this.store.roundsWithStatus('aggregating')) void this.maybeAggregate(r.federationId, r.round);
      })().catch((e: unknown) => this.log.error({ err: String(e) }, 'deadline watcher failed'));
    }, 1000);
    timer.unref();
    return () => clearInterval(timer);
  }

  async idle(): Promise<void> {
    await Promise.all(this.inFlight.values());
  }
}
