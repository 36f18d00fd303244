// One clinic's side of a federation round, written once for the browser (src/app: HE in the worker, the SPA's API
// client), the simulator and the tests (Node: the HE core in-process, fetch): join a round, contribute a flat
// vector, wait for the round to close (one poller per round, round-poller.ts, abortable), download the aggregate,
// decrypt it and verify inclusion (src/fl/inclusion.ts) before anything uses it. Strategies (src/fl/strategies) sit
// on top (live-round.ts for a clinic of a live federation, channels for the simulator): the client itself only
// moves vectors, so a new strategy needs nothing here.
//
// Wire layout of every contribution: [strategy values..., MARKER_SLOTS markers, 1], encrypted as agg-v1's weighted
// contribution with count 1 (src/he/aggregate.ts) at a scale fixed by the strategy's public round bounds: the
// summed last slot is the number of contributions, the markers prove which ones.
import type { AggregationRound } from '../he/aggregate.ts';
import type { RoundView, UploadResponse } from '../protocol/api.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { MARKER_SLOTS } from '../he/inclusion-markers.ts';
import { verifyInclusion, withMarkers } from './inclusion.ts';
import { type FollowOptions, RoundPoller } from './round-poller.ts';

export { RoundFailedError } from './round-poller.ts';

/** The coordinator's round routes, already bound to this clinic's token and federation. */
export interface RoundApi {
  round(round: number, signal?: AbortSignal): Promise<RoundView>;
  upload(round: number, bundle: Uint8Array, signal?: AbortSignal): Promise<UploadResponse>;
  aggregate(round: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/** The HE side, bound to the federation key: the browser's HE worker or the HE core in Node. */
export interface RoundCrypto {
  /** Ciphertexts Enc(values || 1) of `length` values take. */
  ciphertextCount(length: number): number;
  /** Enc(values || 1) at the scale of `bounds` (every |value| <= bounds.maxCount * bounds.maxAbsValue). */
  encrypt(values: Float64Array, bounds: Required<AggregationRound>): Promise<Uint8Array[]>;
  /**
   * Decrypts a summed Enc(values || count): the summed values and the count; where this port can read the
   * aggregate's scale, also log2 of it and of the scale a round of `bounds` declares.
   */
  decrypt(parts: Uint8Array[], length: number, bounds: Required<AggregationRound>): Promise<{ sum: Float64Array; contributions: number; scaleBits?: { observed: number; expected: number } }>;
  /** The inclusion markers of each of `clinicIds` for `round` (src/he/inclusion-markers.ts), drawn from the federation key. */
  markers(round: number, clinicIds: readonly string[]): Promise<Float64Array[]>;
}

export interface RoundClientOptions {
  api: RoundApi;
  crypto: RoundCrypto;
  federationId: string;
  clinicId: string;
  /** The federation's quorum as this clinic saw it when it enrolled (a later, smaller one is not trusted). */
  pinnedQuorum: number;
  /** Status poll period while waiting (default 1 s). */
  pollMs?: number;
  /** The poller of this federation's rounds to join (default: a poller of this client's own, at pollMs). */
  poller?: RoundPoller;
}

export interface UploadReceipt {
  round: number;
  ciphertexts: number;
  bytes: number;
  duplicate: boolean;
  ms: number;
}

export interface VerifiedAggregate {
  round: number;
  /** The element-wise sum of the strategy values over the roster (markers removed), verified. */
  sum: Float64Array;
  roster: readonly string[];
  bytes: number;
  downloadMs: number;
  decryptMs: number;
}

/**
 * What the HE core needs to size every upload of a round (aggregationShape: ciphertext count and scale) when a
 * federation declares its shape: the wire length, inclusion markers included, and the encoding bounds.
 */
export function roundShapeQuery(contributionLength: number, bounds: Required<AggregationRound>): { length: number; round: Required<AggregationRound> } {
  return { length: contributionLength + MARKER_SLOTS, round: encodingBounds(bounds) };
}

/** The strategy's bounds as agg-v1's weighted layout sees them with count 1; markers (|m| <= 1) fit in any. */
export function encodingBounds(bounds: Required<AggregationRound>): Required<AggregationRound> {
  return { clinicCount: bounds.clinicCount, maxCount: 1, maxAbsValue: Math.max(1, bounds.maxCount * bounds.maxAbsValue) };
}

export class RoundClient {
  readonly federationId: string;
  readonly clinicId: string;
  readonly #opts: RoundClientOptions;
  readonly #poller: RoundPoller;

  constructor(opts: RoundClientOptions) {
    this.#opts = opts;
    this.#poller = opts.poller ?? new RoundPoller((round, signal) => opts.api.round(round, signal), opts.pollMs);
    this.federationId = opts.federationId;
    this.clinicId = opts.clinicId;
  }

  /** Ciphertexts a contribution of `length` strategy values takes on the wire (markers and count slot included). */
  ciphertextCount(length: number): number {
    return this.#opts.crypto.ciphertextCount(length + MARKER_SLOTS);
  }

  /** Encrypts values || markers || 1 and uploads it to `round`. */
  async contribute(round: number, values: Float64Array, bounds: Required<AggregationRound>, signal?: AbortSignal): Promise<UploadReceipt> {
    const { api, crypto, clinicId } = this.#opts;
    const [own] = await crypto.markers(round, [clinicId]);
    const parts = await crypto.encrypt(withMarkers(values, own as Float64Array), encodingBounds(bounds));
    const bundle = encodeBundle(parts);
    const started = performance.now();
    const reply = await api.upload(round, bundle, signal);
    if (reply.round !== round) throw new Error(`the coordinator took the upload for round ${reply.round}, not round ${round}`);
    return { round, ciphertexts: parts.length, bytes: bundle.byteLength, duplicate: reply.duplicate, ms: performance.now() - started };
  }

  /**
   * Resolves with the closed round's status, or rejects with RoundFailedError when the round failed (below the quorum
   * after quarantine), naming why and the round that is open instead, so no clinic is left polling a round that will
   * never close. Every caller following the same round shares its one poller; `onView` sees each status read (or null
   * when the coordinator is unreachable, which is retried). Aborting stops only this caller's wait.
   */
  wait(round: number, opts: FollowOptions = {}): Promise<RoundView> {
    return this.#poller.follow(round, opts);
  }

  /**
   * Downloads the closed round's aggregate, decrypts it and verifies inclusion; throws InclusionError on a bad one.
   * `contributed` (default true): this clinic uploaded to the round, so its own id must be on the roster.
   */
  async download(round: number, length: number, bounds: Required<AggregationRound>, opts: { contributed?: boolean; signal?: AbortSignal } = {}): Promise<VerifiedAggregate> {
    const { signal } = opts;
    const { api, crypto, federationId, clinicId, pinnedQuorum } = this.#opts;
    const view = await api.round(round, signal);
    if (view.status !== 'closed') throw new Error(`round ${round} is still '${view.status}'; its aggregate is not ready`);
    let started = performance.now();
    const bundle = await api.aggregate(round, signal);
    const downloadMs = performance.now() - started;
    started = performance.now();
    const parts = decodeBundle(bundle);
    const wire = length + MARKER_SLOTS;
    const expected = crypto.ciphertextCount(wire);
    // A wrong count is refused before decryption (the HE core would refuse it less clearly).
    const decrypted = parts.length === expected ? await crypto.decrypt(parts, wire, encodingBounds(bounds)) : { sum: new Float64Array(wire), contributions: 0 };
    const sum = verifyInclusion({
      federationId,
      round,
      clinicId: opts.contributed === false ? null : clinicId,
      roster: view.submittedIds,
      pinnedQuorum,
      sum: decrypted.sum,
      contributions: decrypted.contributions,
      ciphertexts: { observed: parts.length, expected },
      ...('scaleBits' in decrypted && decrypted.scaleBits ? { scaleBits: decrypted.scaleBits } : {}),
      rosterMarkers: await crypto.markers(round, view.submittedIds),
    });
    return { round, sum, roster: view.submittedIds, bytes: bundle.byteLength, downloadMs, decryptMs: performance.now() - started };
  }
}
