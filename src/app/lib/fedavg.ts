// fedavg-head in the browser (src/fl's strategy, issue 6 item 1). Each round a clinic
//   1. starts from the global head of the previous round (the zero head in round 1), decrypted from that round's
//      aggregate and kept in localStorage per federation and round;
//   2. trains it locally (head-training.worker.ts: src/fl's trainHead) on the training part of its labelled tiles;
//      the held-out validation part scores every new global head;
//   3. contributes [n·W, n·b, n] through src/fl's RoundClient at the strategy's public round bounds (the same at
//      every clinic, or the coordinator's sum would mix scales);
//   4. after the round closes, the verified sum divided by Σn is Σnᵢ·headᵢ / Σnᵢ: the next global head, the same at
//      every key holder (same ciphertext, same key, same deterministic decoding), shown by its checksum.
import { fromBase64, toBase64 } from '../../common/base64.ts';
import { toHex } from '../../common/hex.ts';
import { sha256 } from '../../common/sha256.ts';
import type { AggregationRound } from '../../he/aggregate.ts';
import type { LinearHead } from '../../he/head.ts';
import type { TokenSet } from '../../fl/dataset.ts';
import type { RoundClient } from '../../fl/round-client.ts';
import { CLASS_LABELS, type ClassLabel } from '../../protocol/vocabulary.ts';
import { MAX_CLINICS_PER_ROUND } from './federated-head.ts';

export const LOCAL_EPOCHS_DEFAULT = 5;
export const LOCAL_EPOCHS_MAX = 200;
/** Share of the labelled tiles held out (never trained on) to score each round's global head. */
export const VALIDATION_FRACTION = 0.25;
/** Base seed of the local splits and mini-batch orders; each clinic and round derives its own stream from it. */
const FEDAVG_SEED = 6;
const STORAGE_KEY = 'cipherpath-fedavg-heads';
/** Global heads kept per federation (a 3x768 head is ~25 KB of base64). */
const KEPT_ROUNDS = 20;

export interface LabelledTile {
  id: string;
  token: Float32Array;
  label: ClassLabel;
}

export interface GlobalHead {
  round: number;
  head: LinearHead;
  /** First 16 hex digits of SHA-256 over the head's float64 values (weights then biases). */
  checksum: string;
}

// --- the training worker ----------------------------------------------------------------------------------------

export interface HeadTrainingRequest {
  id: number;
  start: LinearHead;
  train: TokenSet;
  epochs: number;
  seed: number;
  clinicCount: number;
}

export type HeadTrainingResponse =
  | { id: number; weights: Float64Array; biases: Float64Array; bounds: Required<AggregationRound>; backend: string; ms: number }
  | { id: number; error: string };

type TrainingResult = Extract<HeadTrainingResponse, { weights: Float64Array }>;

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (r: TrainingResult) => void; reject: (e: Error) => void }>();

function trainInWorker(request: Omit<HeadTrainingRequest, 'id'>): Promise<TrainingResult> {
  if (!worker) {
    worker = new Worker(new URL('./head-training.worker.ts', import.meta.url), { type: 'module', name: 'cipherpath-head-training' });
    worker.onmessage = (event: MessageEvent<HeadTrainingResponse>) => {
      const waiter = pending.get(event.data.id);
      pending.delete(event.data.id);
      if ('error' in event.data) waiter?.reject(new Error(`local training failed: ${event.data.error}`));
      else waiter?.resolve(event.data);
    };
    worker.onerror = (event) => {
      for (const waiter of pending.values()) waiter.reject(new Error(`the training worker crashed: ${event.message}`));
      pending.clear();
      worker = undefined;
    };
  }
  const id = nextId++;
  const running = worker;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    running.postMessage({ ...request, id } satisfies HeadTrainingRequest);
  });
}

// --- global heads, persisted per federation and round -------------------------------------------------------------

interface StoredGlobalHead {
  classes: number;
  dim: number;
  /** base64 of the packed float64 head (weights row-major, then biases). */
  values: string;
  checksum: string;
}

type HeadStore = Record<string, Record<string, StoredGlobalHead>>;

function readStore(): HeadStore {
  try {
    return (JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as HeadStore | null) ?? {};
  } catch {
    return {};
  }
}

const byteView = (values: Float64Array): Uint8Array => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

// src/he's head packing pulls the HE error types (and node-seal's glue) in: loaded on demand, like src/fl.
const heHead = () => import('../../he/head.ts');

export async function headChecksum(head: LinearHead): Promise<string> {
  const { packHead } = await heHead();
  return toHex(sha256(byteView(packHead(head))).subarray(0, 8));
}

export function loadGlobalHead(federationId: string, round: number): GlobalHead | null {
  const stored = readStore()[federationId]?.[String(round)];
  if (!stored) return null;
  const flat = new Float64Array(fromBase64(stored.values).buffer);
  const w = stored.classes * stored.dim;
  if (flat.length !== w + stored.classes) return null;
  return { round, checksum: stored.checksum, head: { classes: stored.classes, dim: stored.dim, weights: flat.slice(0, w), biases: flat.slice(w) } };
}

async function saveGlobalHead(federationId: string, global: GlobalHead): Promise<void> {
  const { packHead } = await heHead();
  const store = readStore();
  const rounds = { ...store[federationId], [String(global.round)]: { classes: global.head.classes, dim: global.head.dim, values: toBase64(byteView(packHead(global.head))), checksum: global.checksum } };
  const kept = Object.keys(rounds)
    .map(Number)
    .sort((a, b) => b - a)
    .slice(0, KEPT_ROUNDS);
  store[federationId] = Object.fromEntries(kept.map((r) => [String(r), rounds[String(r)] as StoredGlobalHead]));
  localStorage.setItem(STORAGE_KEY, JSON.stringify(store));
}

/** fedavg-head's public round bounds (src/fl FedAvgHead.roundBounds at MAX_CLINICS_PER_ROUND), the same at every clinic. */
export async function fedavgBounds(): Promise<Required<AggregationRound>> {
  const { DEFAULT_MAX_ABS_VALUE, DEFAULT_MAX_COUNT } = await import('../../he/aggregate.ts');
  return { clinicCount: MAX_CLINICS_PER_ROUND, maxCount: DEFAULT_MAX_COUNT, maxAbsValue: DEFAULT_MAX_ABS_VALUE };
}

/** fedavg-head's contribution [n·W, n·b, n] of a locally trained head. */
export function fedavgContribution(local: LocalRound): Float64Array {
  const out = new Float64Array(local.values.length + 1);
  local.values.forEach((v, k) => (out[k] = local.count * v));
  out[local.values.length] = local.count;
  return out;
}

/** The global head of a closed round from its verified sum [Σn·W, Σn·b, Σn]: the count-weighted mean of the local heads. */
export async function globalHeadFromSum(args: { federationId: string; round: number; sum: Float64Array; dim: number }): Promise<GlobalHead & { clinicsTiles: number }> {
  const classes = CLASS_LABELS.length;
  const length = classes * args.dim + classes;
  if (args.sum.length !== length + 1) throw new Error(`the round's sum has ${args.sum.length} values; a ${classes} x ${args.dim} head and its count need ${length + 1}`);
  const total = Math.round(args.sum[length] as number);
  if (!(total >= 1)) throw new Error(`the summed tile count is ${args.sum[length]}; no clinic contributed`);
  const { unpackHead } = await heHead();
  const head = unpackHead(args.sum.subarray(0, length).map((v) => v / total), classes, args.dim);
  const global = { round: args.round, head, checksum: await headChecksum(head) };
  await saveGlobalHead(args.federationId, global);
  return { ...global, clinicsTiles: total };
}

/** Where round `round` starts: null in round 1 (the zero head), else the previous round's global head (stored, or downloaded, verified and decrypted). */
export async function globalHeadBefore(client: RoundClient, args: { federationId: string; round: number; dim: number }): Promise<GlobalHead | null> {
  if (args.round <= 1) return null;
  const previous = args.round - 1;
  const stored = loadGlobalHead(args.federationId, previous);
  if (stored && stored.head.dim === args.dim) return stored;
  const classes = CLASS_LABELS.length;
  // This clinic may have missed that round: its id need not be on the roster, the rest of the check holds.
  const { sum } = await client.download(previous, classes * args.dim + classes + 1, await fedavgBounds(), { contributed: false });
  return globalHeadFromSum({ federationId: args.federationId, round: previous, sum, dim: args.dim });
}

// --- a clinic's local round ---------------------------------------------------------------------------------------

export interface LocalRound {
  /** The locally trained head, packed; encrypted as Enc(n·values || n). */
  values: Float64Array;
  /** n: the clinic's training tiles. */
  count: number;
  /** The strategy's public round bounds (src/fl fedavg-head roundBounds), the same at every clinic. */
  bounds: Required<AggregationRound>;
  validationTileIds: string[];
  trainMs: number;
  backend: string;
}

/** Splits the labelled tiles (seeded per clinic, stable across rounds) and trains `start` (or the zero head) on the training part. */
export async function trainLocalRound(args: { federationId: string; clinicId: string; round: number; start: GlobalHead | null; tiles: readonly LabelledTile[]; epochs: number }): Promise<LocalRound> {
  const { epochs } = args;
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > LOCAL_EPOCHS_MAX) throw new Error(`local epochs ${epochs} must be a whole number from 1 to ${LOCAL_EPOCHS_MAX}`);
  if (args.tiles.length < 2) throw new Error(`fedavg-head needs at least 2 labelled tiles with tokens (one to train on, one to validate); this browser has ${args.tiles.length}`);
  const tiles = [...args.tiles].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const dim = tiles[0]?.token.length ?? 0;
  const [{ localSplit, subset, tokenSet }, { deriveSeed }, { packHead }] = await Promise.all([import('../../fl/dataset.ts'), import('../../fl/random.ts'), heHead()]);
  const flat = new Float32Array(tiles.length * dim);
  tiles.forEach((t, i) => {
    if (t.token.length !== dim) throw new Error(`tile ${t.id} has a ${t.token.length}-dimensional token, the others ${dim}`);
    flat.set(t.token, i * dim);
  });
  const labels = Int32Array.from(tiles, (t) => CLASS_LABELS.indexOf(t.label));
  const all = tokenSet(dim, CLASS_LABELS.length, flat, labels);
  // localSplit returns token sets, not positions: splitting a one-dimensional set of tile positions gives them.
  const positions = tokenSet(1, CLASS_LABELS.length, Float32Array.from(tiles, (_, i) => i), labels);
  const split = localSplit(positions, VALIDATION_FRACTION, deriveSeed(FEDAVG_SEED, `split ${args.federationId} ${args.clinicId}`));
  const train = subset(all, Array.from(split.train.tokens));
  if (args.start && args.start.head.dim !== dim) throw new Error(`the global head is ${args.start.head.dim}-dimensional, this browser's tokens are ${dim}-dimensional (a different ViT?)`);
  const start = args.start?.head ?? { classes: CLASS_LABELS.length, dim, weights: new Float64Array(CLASS_LABELS.length * dim), biases: new Float64Array(CLASS_LABELS.length) };
  const trained = await trainInWorker({
    start,
    train,
    epochs,
    seed: deriveSeed(FEDAVG_SEED, `train ${args.federationId} ${args.clinicId} round ${args.round}`),
    clinicCount: MAX_CLINICS_PER_ROUND,
  });
  return {
    values: packHead({ classes: CLASS_LABELS.length, dim, weights: trained.weights, biases: trained.biases }),
    count: train.count,
    bounds: trained.bounds,
    validationTileIds: Array.from(split.validation.tokens, (i) => (tiles[i] as LabelledTile).id),
    trainMs: trained.ms,
    backend: trained.backend,
  };
}
