// Round lifecycle: collecting → aggregating → closed (or failed). A round aggregates as soon as every enrolled
// clinic has uploaded, or at its deadline if at least the quorum has; below the quorum it keeps collecting. "Due" is
// judged by the database's clock (Store.dueRounds), never a replica's. The close is a compare-and-set that writes the
// aggregation job in the same transaction (jobs/types.ts roundJobs), so it happens once however many requests or
// replicas race, and a closed round always has its job. The job runs on whichever replica takes it, in that
// replica's HE worker pool, never on the event loop; the result is another compare-and-set, so a job delivered twice
// stores one result. Aggregation never wedges a round: an upload that cannot be added to the others (another scale or
// count, a corrupt blob) is quarantined and the round closes with the rest if the quorum still holds, otherwise it
// fails visibly and the next round opens. A sweeper, every second on every replica, closes due rounds whose deadline
// job was lost and re-issues the aggregation of a round whose job is gone (ensure).
import { HeError } from '../he/errors.ts';
import type { HeNodePool } from '../he/node-pool.ts';
import type { PresetId } from '../he/params.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { type JobLogger, type JobQueue, roundJobs } from './jobs/types.ts';
import { crashPoint } from './fault-inject.ts';
import type { Metrics } from './metrics.ts';
import type { BlobStore, RoundKey, Store, UploadRow } from './stores/types.ts';

export interface RoundLogger extends JobLogger {
  info(obj: object, msg: string): void;
}

interface Contribution {
  upload: UploadRow;
  parts: Uint8Array[];
}

const BLOB_READS_IN_FLIGHT = 8;

/**
 * `read` of every item, at most `inFlight` running at once; the promises come back in item order and a failed one
 * does not stop the others (each is awaited, and its failure handled, by the caller).
 */
function readAhead<T, R>(items: readonly T[], inFlight: number, read: (item: T) => Promise<R>): Promise<R>[] {
  const started: Promise<R>[] = [];
  const settled = (i: number): Promise<unknown> => (started[i] as Promise<R>).then(() => undefined, () => undefined);
  for (const [i, item] of items.entries()) {
    const previous = i >= inFlight ? settled(i - inFlight) : Promise.resolve();
    const next = previous.then(() => read(item));
    next.catch(() => undefined); // handled where the caller awaits it
    started.push(next);
  }
  return started;
}

export class RoundRunner {
  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly pool: HeNodePool;
  private readonly log: RoundLogger;
  private readonly metrics: Metrics;
  private readonly jobs: JobQueue;

  constructor(deps: { store: Store; blobs: BlobStore; pool: HeNodePool; log: RoundLogger; metrics: Metrics; jobs: JobQueue }) {
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.pool = deps.pool;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.jobs = deps.jobs;
    this.store.setRoundEvents(roundJobs(this.jobs));
  }

  /** Starts working jobs on this replica; `retention` runs after a round closes. */
  async start(retention: () => Promise<void>): Promise<void> {
    const logged = (what: string, run: (round: RoundKey) => Promise<void>) => async (round: RoundKey) => {
      try {
        await run(round);
      } catch (e) {
        // Thrown on: the queue retries the job (pg-boss), or the sweeper re-issues it (in-process).
        this.log.error({ ...round, err: String(e) }, `${what} failed`);
        throw e;
      }
    };
    await this.jobs.work({
      aggregate: logged('aggregation', (round) => this.aggregateJob(round)),
      deadline: logged('deadline close', (round) => this.closeIfDue(round)),
      retention: logged('retention', retention),
    });
  }

  /** After an upload: closes the round if it is now due. Never rejects (the sweeper retries what failed here). */
  async maybeAggregate(federationId: string, round: number): Promise<void> {
    await this.closeIfDue({ federationId, round }).catch((e: unknown) => this.log.error({ federationId, round, err: String(e) }, 'close failed'));
  }

  private async closeIfDue(round: RoundKey): Promise<void> {
    if ((await this.store.dueRounds(round)).length === 0) return;
    crashPoint('before-close');
    // The aggregation job is written in the close's transaction; this replica looks for it at once.
    if (await this.store.tryClose(round.federationId, round.round)) this.jobs.wake('aggregate');
  }

  /** The aggregation job: idempotent, since a queue may deliver it again (a retry, a replica that died holding it). */
  private async aggregateJob({ federationId, round }: RoundKey): Promise<void> {
    const federation = await this.store.getFederation(federationId);
    const state = await this.store.getRound(federationId, round);
    // Closed, failed or reset meanwhile (the compare-and-sets decided): nothing left to do.
    if (!federation || state?.status !== 'aggregating') return;
    await this.aggregate(federationId, federation.presetId, federation.minClinics, round);
  }

  private async aggregate(federationId: string, presetId: PresetId, quorum: number, round: number): Promise<void> {
    const started = performance.now();
    const spec = (await this.store.getRound(federationId, round))?.spec;
    const contributions: Contribution[] = [];
    const uploads = (await this.store.uploadsFor(federationId, round)).filter((u) => !u.quarantined);
    // Blobs are read several at a time (a shared store is a network round trip each), and checked in upload order.
    const reads = readAhead(uploads, BLOB_READS_IN_FLIGHT, (upload) => this.blobs.get(upload.sha256));
    for (const [i, upload] of uploads.entries()) {
      try {
        const parts = decodeBundle(await (reads[i] as Promise<Uint8Array>));
        if (spec?.ciphertextCount != null && parts.length !== spec.ciphertextCount) throw new Error(`${parts.length} ciphertexts, the round takes ${spec.ciphertextCount}`);
        contributions.push({ upload, parts });
      } catch (e) {
        // False: another replica closed the round meanwhile (its retention removed the blobs); nothing left to do here.
        if (!(await this.store.quarantine(federationId, round, upload.clinicId, `unreadable upload: ${(e as Error).message}`))) return;
      }
    }
    const { kept, sum: wholeSum } = await this.compatible(presetId, federationId, round, contributions);
    if (kept.length < quorum) {
      // failRound is a compare-and-set: false when another replica has closed the round meanwhile.
      if (await this.store.failRound(federationId, round, `only ${kept.length} usable upload(s) after quarantine; the quorum is ${quorum}`)) {
        this.log.error({ federationId, round, usable: kept.length, quorum }, 'round failed');
      }
      return;
    }
    const sum = wholeSum ?? (await this.pool.sumCiphertexts(presetId, federationId, kept.map((c) => c.parts)));
    const sha = await this.blobs.put(encodeBundle(sum));
    crashPoint('before-complete');
    // The retention job is written in the same transaction as the result.
    if (!(await this.store.completeAggregation(federationId, round, { aggregateSha: sha, ciphertextCount: sum.length, clinics: kept.length }))) return;
    this.jobs.wake('retention');
    this.metrics.inc('cipherpath_rounds_closed_total');
    this.metrics.inc('cipherpath_aggregation_seconds_sum', {}, (performance.now() - started) / 1000);
    this.log.info({ federationId, round, clinics: kept.length, ms: Math.round(performance.now() - started) }, 'round aggregated');
  }

  /**
   * The largest set of contributions SEAL can add together. When the whole sum fails for a reason in the inputs,
   * contributions are grouped by pairwise compatibility with each group's first member; the largest group is kept
   * and every other contribution is quarantined with SEAL's reason. `sum` is the sum of all of them when that
   * worked at the first try (the usual case: it is the round's aggregate, not summed twice), else null.
   */
  private async compatible(presetId: PresetId, federationId: string, round: number, all: Contribution[]): Promise<{ kept: Contribution[]; sum: Uint8Array[] | null }> {
    if (all.length < 2) return { kept: all, sum: null };
    try {
      return { kept: all, sum: await this.pool.sumCiphertexts(presetId, federationId, all.map((c) => c.parts)) };
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
      if (!kept.includes(c) && !(await this.store.quarantine(federationId, round, c.upload.clinicId, `cannot be added to the other uploads: ${reasons.get(c) ?? 'incompatible'}`))) return { kept: [], sum: null };
    }
    return { kept, sum: null };
  }

  /**
   * Closes the rounds that are due by the database's clock (a lost deadline job, a crash between the last upload and
   * the close) and re-issues the aggregation of aggregating rounds whose job is gone (a crash before the queue had
   * it, an in-process job that failed); a dead-lettered one stays for the admin.
   */
  async sweep(): Promise<void> {
    for (const round of await this.store.dueRounds()) await this.closeIfDue(round);
    for (const r of await this.store.roundsWithStatus('aggregating')) await this.jobs.ensure('aggregate', { federationId: r.federationId, round: r.round });
  }

  /** The sweep once a second; returns a function that stops it. */
  watchRounds(): () => void {
    let sweeping = false;
    const timer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      this.sweep()
        .catch((e: unknown) => this.log.error({ err: String(e) }, 'round sweep failed'))
        .finally(() => (sweeping = false));
    }, 1000);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Resolves once the jobs running on this replica have settled. */
  async idle(): Promise<void> {
    await this.jobs.idle();
  }
}
