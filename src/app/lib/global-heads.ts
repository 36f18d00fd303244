// The global heads of the federations this browser takes part in, kept in localStorage per federation and round (the
// last KEPT_ROUNDS), as src/fl's GlobalHeadStore: a strategy that trains locally starts each round from the last one.
import { fromBase64, toBase64 } from '../../common/base64.ts';
import type { GlobalHead, GlobalHeadStore } from '../../fl/live-round.ts';

const STORAGE_KEY = 'cipherpath-fedavg-heads';
/** Global heads kept per federation (a 3x768 head is ~25 KB of base64). */
const KEPT_ROUNDS = 20;

interface StoredGlobalHead {
  classes: number;
  dim: number;
  /** base64 of the float64 head (weights row-major, then biases). */
  values: string;
  checksum: string;
}

type HeadsByFederation = Record<string, Record<string, StoredGlobalHead>>;

function read(): HeadsByFederation {
  try {
    return (JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as HeadsByFederation | null) ?? {};
  } catch {
    return {};
  }
}

export function globalHeadStore(federationId: string): GlobalHeadStore {
  return {
    load(round) {
      const stored = read()[federationId]?.[String(round)];
      if (!stored) return null;
      const flat = new Float64Array(fromBase64(stored.values).buffer);
      const w = stored.classes * stored.dim;
      if (flat.length !== w + stored.classes) return null;
      return { round, checksum: stored.checksum, head: { classes: stored.classes, dim: stored.dim, weights: flat.slice(0, w), biases: flat.slice(w) } };
    },
    save({ round, head, checksum }: GlobalHead) {
      const values = new Float64Array(head.weights.length + head.biases.length);
      values.set(head.weights);
      values.set(head.biases, head.weights.length);
      const all = read();
      const rounds = { ...all[federationId], [String(round)]: { classes: head.classes, dim: head.dim, values: toBase64(new Uint8Array(values.buffer)), checksum } };
      const kept = Object.keys(rounds)
        .map(Number)
        .sort((a, b) => b - a)
        .slice(0, KEPT_ROUNDS);
      all[federationId] = Object.fromEntries(kept.map((r) => [String(r), rounds[String(r)] as StoredGlobalHead]));
      localStorage.setItem(STORAGE_KEY, JSON.stringify(all));
    },
  };
}
