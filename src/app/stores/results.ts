// What this browser has measured: one record per federated round it took part in (or ran in the demo), the model
// each round produced, and simulation results loaded from `npm run simulate -- --json`. The charts read only these;
// nothing is drawn that was not measured.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { LinearHead } from '../../he/head.ts';

export const PHASES = ['extract', 'encrypt', 'upload', 'aggregate', 'download', 'decrypt', 'evaluate'] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_LABELS: Record<Phase, string> = {
  extract: 'extract',
  encrypt: 'encrypt',
  upload: 'upload',
  aggregate: 'wait for sum',
  download: 'download',
  decrypt: 'decrypt',
  evaluate: 'evaluate',
};

export interface RoundResult {
  federationId: string;
  federationName: string;
  source: 'participation' | 'demo';
  round: number;
  strategy: string;
  completedAt: number;
  /** Accuracy of the round's model on the labelled tiles named in `accuracyNote`; null when not measurable. */
  accuracyEncrypted: number | null;
  /** The same algorithm with plaintext aggregation: only computable where one browser holds every clinic's data. */
  accuracyUnencrypted: number | null;
  accuracyNote: string;
  bytesUpPerClinic: number;
  bytesDownPerClinic: number;
  /** What the same contribution costs unencrypted (8 bytes per value), for comparison. */
  bytesPlainPerClinic: number | null;
  phaseMs: Partial<Record<Phase, number>>;
}

export interface StoredHead {
  federationId: string;
  federationName: string;
  round: number;
  strategy: string;
  modelSha256: string;
  classes: number;
  dim: number;
  weights: number[];
  biases: number[];
}

/** `npm run simulate -- --json` output (src/fl, issue 6). */
export interface SimulationDoc {
  runs: { strategy: string; domain: string; split: string; finalAccuracy: number; rounds: { round: number; accuracy: number; bytesUpPerClinic: number; bytesDownPerClinic: number }[] }[];
}

export function parseSimulation(text: string, source: string): SimulationDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not JSON; produce it with "npm run simulate -- --json > results.json"`);
  }
  const runs = (doc as { runs?: unknown }).runs;
  if (!Array.isArray(runs) || runs.length === 0) throw new Error(`${source} has no "runs" array`);
  runs.forEach((r: unknown, i) => {
    const run = r as SimulationDoc['runs'][number];
    if (typeof run.strategy !== 'string' || typeof run.domain !== 'string' || !Array.isArray(run.rounds)) throw new Error(`${source}: runs[${i}] lacks strategy, domain or rounds`);
    run.rounds.forEach((round, k) => {
      for (const field of ['round', 'accuracy', 'bytesUpPerClinic', 'bytesDownPerClinic'] as const) {
        if (typeof round[field] !== 'number' || !Number.isFinite(round[field])) throw new Error(`${source}: runs[${i}].rounds[${k}].${field} is not a number`);
      }
    });
  });
  return doc as SimulationDoc;
}

export function headOf(stored: StoredHead): LinearHead {
  return { classes: stored.classes, dim: stored.dim, weights: Float64Array.from(stored.weights), biases: Float64Array.from(stored.biases) };
}

interface ResultsState {
  rounds: RoundResult[];
  heads: StoredHead[];
  simulation: { source: string; doc: SimulationDoc } | null;
  record(result: RoundResult, head?: StoredHead): void;
  setSimulation(sim: { source: string; doc: SimulationDoc } | null): void;
}

export const useResults = create<ResultsState>()(
  persist(
    (set) => ({
      rounds: [],
      heads: [],
      simulation: null,
      record(result, head) {
        set((s) => ({
          rounds: [...s.rounds.filter((r) => !(r.federationId === result.federationId && r.round === result.round)), result],
          heads: head ? [...s.heads.filter((h) => h.federationId !== head.federationId), head] : s.heads,
        }));
      },
      setSimulation(simulation) {
        set({ simulation });
      },
    }),
    { name: 'cipherpath-results', storage: createJSONStorage(() => localStorage) },
  ),
);
