// One clinic's round of a live federation, written once for every clinic that runs one (the app's round store and its
// three-clinic demo, the Node tests): from the clinic's tiles and its strategy (strategies/ createRoundStrategy) to an
// uploaded contribution, and from the closed round to the verified, decrypted result, all through one RoundClient.
// What differs between strategies is the strategy's own code and its traits (strategies/live-traits.ts), so a new
// strategy needs nothing here. The two halves are separate because a browser may reload in between: `contribute`
// before the upload, `finish` (wait, download, verify, combine) whenever the page comes back.
//
// A strategy that trains locally starts round r from the global head of round r - 1 (the zero head in round 1),
// kept in a GlobalHeadStore, or downloaded, verified and decrypted from that round's aggregate when this clinic has
// none; it trains on a seeded split of the labelled tiles (VALIDATION_FRACTION held out, stable across rounds) and
// the held-out tiles score each new global head. Every clinic derives the same global head from the same sum
// (same ciphertext, same key, same deterministic decoding); its checksum shows it.
import { toHex } from '../common/hex.ts';
import { sha256 } from '../common/sha256.ts';
import type { AggregationRound } from '../he/aggregate.ts';
import { packHead } from '../he/head.ts';
import type { LinearHead } from '../he/head.ts';
import { CLASS_LABELS } from '../protocol/vocabulary.ts';
import type { ClassLabel } from '../protocol/vocabulary.ts';
import { localSplit, subset, tokenSet } from './dataset.ts';
import { DEFAULT_LOCAL_TRAINING, zeroHead } from './head.ts';
import type { HeadTrainer } from './head.ts';
import { deriveSeed } from './random.ts';
import { roundShapeQuery } from './round-client.ts';
import type { RoundClient, UploadReceipt, VerifiedAggregate } from './round-client.ts';
import type { FollowOptions } from './round-poller.ts';
import { createRoundStrategy, LOCAL_EPOCHS, ROUND_TRAITS } from './strategies/index.ts';
import type { ClinicData, RoundStrategy, RoundStrategyName, RoundTraits, StrategySettings } from './strategies/index.ts';

/** Public bounds every clinic of a live federation uses, so that all of them encode at one CKKS scale. */
export const LIVE_ROUND_LIMITS = {
  clinicsPerRound: 100,
  /** Labelled tiles (tokens) one clinic puts into a round. */
  tilesPerClinic: 2000,
  /** |value| of a real ViT [CLS] token (after the final LayerNorm); TOKEN_LIMIT (10) is the synthetic tokens' clip. */
  tokenLimit: 16,
} as const;
/** Share of the labelled tiles held out (never trained on) to score each global head. */
export const VALIDATION_FRACTION = 0.25;
/** Base seed of the local splits and training runs; each federation, clinic and round derives its own from it. */
const LIVE_SEED = 6;

/** A tile as the clinic holds it: its token and its class, or null when it has none. */
export interface LiveTile {
  id: string;
  token: Float32Array;
  label: ClassLabel | null;
}

export interface GlobalHead {
  round: number;
  head: LinearHead;
  /** First 16 hex digits of SHA-256 over the head's float64 values (weights row-major, then biases). */
  checksum: string;
}

/** Where a clinic keeps the global heads of one federation between rounds (the browser: localStorage). */
export interface GlobalHeadStore {
  load(round: number): GlobalHead | null;
  save(global: GlobalHead): void;
}

export function headChecksum(head: LinearHead): string {
  const packed = packHead(head);
  return toHex(sha256(new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength)).subarray(0, 8));
}

export interface LiveRoundOptions {
  client: RoundClient;
  strategy: RoundStrategyName;
  /** Local epochs per round (strategies that train locally; default LOCAL_EPOCHS.default). */
  epochs?: number;
  /** Where local training runs (default: trainHead in this realm). */
  trainHead?: HeadTrainer;
  /** The federation's global heads (needed by strategies that train locally). */
  heads?: GlobalHeadStore;
}

export type LiveStep = { step: 'start-head'; from: number | null } | { step: 'contribute' } | { step: 'upload'; ciphertexts: number };

export interface LiveContribution {
  round: number;
  /** The contribution before markers and encryption (the demo compares it with the same sum in clear). */
  values: Float64Array;
  dim: number;
  /** Tiles that went in (training tiles where some are held out). */
  trainCount: number;
  /** Tiles the round's head is scored on: the held-out ones, or those contributed; none for the token sum. */
  scoredTileIds: string[];
  /** The global head training started from; null: the zero head (or a strategy that does not train locally). */
  startedFrom: { round: number; checksum: string } | null;
  upload: UploadReceipt;
  /** From the first step to the acknowledged upload (local training and encryption included). */
  ms: number;
}

export interface LiveResult {
  aggregate: VerifiedAggregate;
  /** The next global head; null for a strategy that learns none (the verified sum is the result). */
  global: GlobalHead | null;
  waitMs: number;
}

function settingsFor(federationId: string, clinicId: string, epochs: number, trainHead?: HeadTrainer): StrategySettings {
  return {
    seed: deriveSeed(LIVE_SEED, `train ${federationId} ${clinicId}`),
    training: { ...DEFAULT_LOCAL_TRAINING, epochs },
    ridgeLambda: 1,
    tokens: { limit: LIVE_ROUND_LIMITS.tokenLimit, maxCount: LIVE_ROUND_LIMITS.tilesPerClinic },
    ...(trainHead ? { trainHead } : {}),
  };
}

/**
 * What every honest clinic of `strategy` uploads at token width `dim` (aggregationShape's query), so a federation can
 * declare it and the coordinator refuse any other shape; null for the token sum (its length is each clinic's count).
 */
export function declaredShapeQuery(strategy: RoundStrategyName, dim: number): ReturnType<typeof roundShapeQuery> | null {
  const round = createRoundStrategy(strategy, settingsFor('', '', LOCAL_EPOCHS.default));
  const length = round.contributionLength(CLASS_LABELS.length, dim);
  return length === null ? null : roundShapeQuery(length, round.roundBounds(LIVE_ROUND_LIMITS.clinicsPerRound));
}

const byId = (a: LiveTile, b: LiveTile) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class LiveRound {
  readonly name: RoundStrategyName;
  readonly strategy: RoundStrategy;
  readonly traits: RoundTraits;
  readonly bounds: Required<AggregationRound>;
  readonly #client: RoundClient;
  readonly #heads: GlobalHeadStore | undefined;

  constructor(opts: LiveRoundOptions) {
    const epochs = opts.epochs ?? LOCAL_EPOCHS.default;
    this.name = opts.strategy;
    this.traits = ROUND_TRAITS[opts.strategy];
    if (this.traits.trainsLocally && !(Number.isInteger(epochs) && epochs >= 1 && epochs <= LOCAL_EPOCHS.max)) {
      throw new Error(`local epochs ${epochs} must be a whole number from 1 to ${LOCAL_EPOCHS.max}`);
    }
    if (this.traits.trainsLocally && !opts.heads) throw new Error(`${opts.strategy} keeps global heads between rounds: give it a GlobalHeadStore`);
    this.#client = opts.client;
    this.#heads = opts.heads;
    this.strategy = createRoundStrategy(opts.strategy, settingsFor(opts.client.federationId, opts.client.clinicId, epochs, opts.trainHead));
    this.bounds = this.strategy.roundBounds(LIVE_ROUND_LIMITS.clinicsPerRound);
  }

  /** Where `round` starts: null for the zero head (round 1, or no local training), else round - 1's global head. */
  async startHead(round: number, dim: number): Promise<GlobalHead | null> {
    if (!this.traits.trainsLocally || round <= 1) return null;
    const previous = round - 1;
    const stored = this.#heads?.load(previous);
    if (stored && stored.head.dim === dim) return stored;
    const length = this.strategy.contributionLength(CLASS_LABELS.length, dim) ?? 0;
    // This clinic may have missed that round: its id need not be on the roster, the rest of the check holds.
    const { sum } = await this.#client.download(previous, length, this.bounds, { contributed: false });
    return this.#global(previous, sum, zeroHead(CLASS_LABELS.length, dim));
  }

  /** Turns this clinic's tiles (every tile with a token, in its own order) into its contribution and uploads it. */
  async contribute(round: number, tiles: readonly LiveTile[], onStep?: (step: LiveStep) => void): Promise<LiveContribution> {
    const started = performance.now();
    const dim = tiles[0]?.token.length ?? 0;
    if (dim === 0) throw new Error('there are no tiles with tokens to contribute');
    for (const t of tiles) if (t.token.length !== dim) throw new Error(`tile ${t.id} has a ${t.token.length}-dimensional token, the others ${dim}`);
    const { clinic, scoredTileIds } = this.#clinicData(tiles, dim);
    let start: GlobalHead | null = null;
    if (this.traits.trainsLocally) {
      onStep?.({ step: 'start-head', from: round > 1 ? round - 1 : null });
      start = await this.startHead(round, dim);
      if (start && start.head.dim !== dim) throw new Error(`the global head is ${start.head.dim}-dimensional, this browser's tokens are ${dim}-dimensional (a different ViT?)`);
    }
    onStep?.({ step: 'contribute' });
    const values = await this.strategy.contribute(clinic, start?.head ?? zeroHead(CLASS_LABELS.length, dim), round);
    onStep?.({ step: 'upload', ciphertexts: this.#client.ciphertextCount(values.length) });
    const upload = await this.#client.contribute(round, values, this.bounds);
    const startedFrom = start && { round: start.round, checksum: start.checksum };
    return { round, values, dim, trainCount: clinic.train.count, scoredTileIds, startedFrom, upload, ms: performance.now() - started };
  }

  /** Waits for `round` to close, downloads, verifies and decrypts its aggregate, and combines it (next global head). */
  async finish(round: number, contribution: { length: number; dim: number }, follow: FollowOptions = {}): Promise<LiveResult> {
    const started = performance.now();
    await this.#client.wait(round, follow);
    const waitMs = performance.now() - started;
    const aggregate = await this.#client.download(round, contribution.length, this.bounds, follow.signal ? { signal: follow.signal } : {});
    if (!this.traits.learnsHead) return { aggregate, global: null, waitMs };
    const start = await this.startHead(round, contribution.dim);
    return { aggregate, global: this.#global(round, aggregate.sum, start?.head ?? zeroHead(CLASS_LABELS.length, contribution.dim)), waitMs };
  }

  /** The head a sum of contributions gives a strategy that starts from the zero head (the demo's sum in clear). */
  combine(sum: Float64Array, dim: number): LinearHead | null {
    return this.strategy.combine(sum, zeroHead(CLASS_LABELS.length, dim));
  }

  #global(round: number, sum: Float64Array, previous: LinearHead): GlobalHead {
    const head = this.strategy.combine(sum, previous);
    if (!head) throw new Error(`${this.name} learns no head`);
    const global = { round, head, checksum: headChecksum(head) };
    if (this.traits.trainsLocally) this.#heads?.save(global);
    return global;
  }

  /** The clinic's data as the strategy takes it, and the tiles its head is scored on. */
  #clinicData(tiles: readonly LiveTile[], dim: number): { clinic: ClinicData; scoredTileIds: string[] } {
    const flat = (list: readonly LiveTile[]) => {
      const out = new Float32Array(list.length * dim);
      list.forEach((t, i) => out.set(t.token, i * dim));
      return out;
    };
    if (!this.traits.learnsHead) {
      // Every tile in the clinic's own order, labelled or not: one class.
      const all = tokenSet(dim, 1, flat(tiles), new Int32Array(tiles.length));
      return { clinic: { index: 0, train: all, validation: all }, scoredTileIds: [] };
    }
    const labelled = tiles.filter((t) => t.label !== null).sort(byId);
    if (labelled.length === 0) throw new Error(`the ${this.name} strategy needs labelled tiles: label tiles by folder or CSV on the Slides page`);
    const { tilesPerClinic } = LIVE_ROUND_LIMITS;
    if (labelled.length > tilesPerClinic) throw new Error(`${labelled.length} labelled tiles; a round takes at most ${tilesPerClinic} per clinic`);
    const labels = Int32Array.from(labelled, (t) => CLASS_LABELS.indexOf(t.label as ClassLabel));
    const all = tokenSet(dim, CLASS_LABELS.length, flat(labelled), labels);
    if (!this.traits.trainsLocally) return { clinic: { index: 0, train: all, validation: all }, scoredTileIds: labelled.map((t) => t.id) };
    if (labelled.length < 2) throw new Error(`${this.name} needs at least 2 labelled tiles with tokens (one to train on, one to validate); this browser has ${labelled.length}`);
    // localSplit returns token sets, not positions: splitting a one-dimensional set of tile positions gives them.
    const positions = tokenSet(1, CLASS_LABELS.length, Float32Array.from(labelled, (_, i) => i), labels);
    const client = this.#client;
    const split = localSplit(positions, VALIDATION_FRACTION, deriveSeed(LIVE_SEED, `split ${client.federationId} ${client.clinicId}`));
    const train = subset(all, Array.from(split.train.tokens));
    const validation = subset(all, Array.from(split.validation.tokens));
    return { clinic: { index: 0, train, validation }, scoredTileIds: Array.from(split.validation.tokens, (i) => (labelled[i] as LiveTile).id) };
  }
}
