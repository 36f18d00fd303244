// Round lifecycle: collecting → aggregating → closed. A round aggregates as soon as every enrolled clinic has
// uploaded, or at its deadline if at least the quorum has; below the quorum it keeps collecting past the deadline.
// The homomorphic sum runs in the HE worker pool, never on the event loop. On start, rounds left 'aggregating' (or
// 'collecting' with a full quorum) by a crash are finished, so no accepted upload is lost.
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import type { HeNodePool } from '../he/node-pool.ts';
import type { PresetId } from '../he/params.ts';
import type { Metrics } from './metrics.ts';
import type { Store } from './store.ts';

export interface RoundLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class RoundRunner {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly store: Store;
  private readonly pool: HeNodePool;
  private readonly log: RoundLogger;
  private readonly metrics: Metrics;

  constructor(store: Store, pool: HeNodePool, log: RoundLogger, metrics: Metrics) {
    this.store = store;
    this.pool = pool;
    this.log = log;
    this.metrics = metrics;
  }

  /** Starts aggregation when the quorum is met; resolves when the round is closed (or immediately if not due). */
  maybeAggregate(federationId: string, round: number): Promise<void> {
    const key = `${federationId}#${round}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const federation = this.store.getFederation(federationId);
    const state = this.store.getRound(federationId, round);
    if (!federation || !state || state.status === 'closed') return Promise.resolve();
    const uploads = this.store.uploadsFor(federationId, round).length;
    const everyone = uploads >= this.store.clinicsOf(federationId).length;
    const pastDeadline = Date.parse(state.deadlineAt) <= Date.now();
    if (uploads < federation.minClinics || !(everyone || pastDeadline || state.status === 'aggregating')) return Promise.resolve();
    this.store.setRoundStatus(federationId, round, 'aggregating');
    const job = this.aggregate(federationId, federation.presetId as PresetId, round)
      .catch((e: unknown) => {
        // A failed sum leaves the round 'aggregating'; it is retried at the next start, and the uploads stay stored.
        this.log.error({ federationId, round, err: String(e) }, 'aggregation failed');
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, job);
    return job;
  }

  private async aggregate(federationId: string, presetId: PresetId, round: number): Promise<void> {
    const started = performance.now();
    const uploads = this.store.uploadsFor(federationId, round);
    const perClinic = uploads.map((u) => decodeBundle(this.store.getBlob(u.sha256)));
    const sum = await this.pool.sumCiphertexts(presetId, federationId, perClinic);
    const sha = this.store.putBlob(encodeBundle(sum));
    this.store.closeRound(federationId, round, sha, sum.length);
    this.store.audit('coordinator', 'round.closed', { federationId, round, clinics: uploads.length, aggregateSha: sha });
    this.metrics.inc('cipherpath_rounds_closed_total');
    this.metrics.inc('cipherpath_aggregation_seconds_sum', {}, (performance.now() - started) / 1000);
    this.log.info({ federationId, round, clinics: uploads.length, ms: Math.round(performance.now() - started) }, 'round aggregated');
  }

  async resumeAfterRestart(): Promise<void> {
    const pending = [...this.store.roundsWithStatus('aggregating'), ...this.store.roundsWithStatus('collecting')];
    await Promise.all(pending.map((r) => this.maybeAggregate(r.federationId, r.round)));
  }

  /** Checks deadlines once a second; returns a function that stops the timer. */
  watchDeadlines(): () => void {
    const timer = setInterval(() => {
      for (const r of this.store.roundsWithStatus('collecting')) {
        if (Date.parse(r.deadlineAt) <= Date.now()) void this.maybeAggregate(r.federationId, r.round);
      }
    }, 1000);
    timer.unref();
    return () => clearInterval(timer);
  }

  async idle(): Promise<void> {
    await Promise.all(this.inFlight.values());
  }
}
