// Taking part in a round: the state and progress of this clinic's participation. The round itself (encrypt, upload,
// one poller per round, download, inclusion check, decrypt) is src/fl's RoundClient, bound to this browser by
// lib/round-client.ts. The upload and a participation in progress are kept in localStorage, so a reload in the
// middle of a round resumes waiting and decrypts when the round closes. Components pass in what other stores hold
// (tiles and tokens) and record the outcome in the results store.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { InclusionError } from '../../fl/inclusion.ts';
import { RoundFailedError } from '../../fl/round-client.ts';
import type { LinearHead } from '../../he/head.ts';
import type { PresetId } from '../../he/params.ts';
import type { FederationView, RoundView } from '../../protocol/api.ts';
import type { ClassLabel } from '../../protocol/vocabulary.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { fedavgBounds, fedavgContribution, globalHeadBefore, globalHeadFromSum, trainLocalRound } from '../lib/fedavg.ts';
import { accuracyOn, headFromSum, type LabelledTokens, PROTOTYPE_BOUNDS, prototypeContribution } from '../lib/federated-head.ts';
import { isClassLabel } from '../lib/labels.ts';
import { type ClinicAccess, roundClient } from '../lib/round-client.ts';
import { APP_STRATEGIES, type AppStrategy, isAppStrategy } from '../lib/strategies.ts';
import type { Phase, RoundResult, StoredHead } from './results.ts';
import { orderedTokens, type TileView } from './tiles.ts';

export interface UploadSummary {
  federationId: string;
  round: number;
  ciphertexts: number;
  bytes: number;
  duplicate: boolean;
  tokenCount: number;
  dim: number;
}

/** fedavg-head's record of one round at this clinic (lib/fedavg.ts). */
export interface FedAvgRound {
  epochs: number;
  /** The tfjs backend local training ran on (a hardware GPU when the browser offers one). */
  backend?: string;
  /** Tiles trained on (n, the clinic's weight in the mean). */
  trainCount: number;
  /** Held-out tiles that score the new global head. */
  validationTileIds: string[];
  /** The global head local training started from; null: the zero head (round 1). */
  startedFrom: { round: number; checksum: string } | null;
  /** Checksum of the global head this round produced, once decrypted. */
  globalChecksum: string | null;
}

export interface Participation {
  federationId: string;
  federationName: string;
  presetId: PresetId;
  round: number;
  strategy: AppStrategy;
  phase: 'uploaded' | 'done';
  contributionLength: number;
  dim: number;
  /** The labelled tiles that went into the contribution (for the accuracy after decryption). */
  tileIds: string[];
  phaseMs: Partial<Record<Phase, number>>;
  bytesUp: number;
  fedavg?: FedAvgRound;
}

/** This clinic's tiles and tokens as the tiles store holds them, read by the caller (stores never read each other). */
export interface TileSnapshot {
  tiles: readonly TileView[];
  tokens: Readonly<Record<string, Float32Array>>;
  modelSha256: string | null;
}

/** fedavg-head's local training settings: the clinic (its split and seeds) and the local epochs. */
export interface LocalTraining {
  clinicId: string;
  epochs: number;
}

/** A finished participation's measurements and model, for the results store. */
export interface RoundOutcome {
  result: RoundResult;
  head?: StoredHead;
}

interface RoundState {
  view: RoundView | null;
  timeline: RoundView[];
  upload: UploadSummary | null;
  participation: Participation | null;
  decryptedSum: Float64Array[] | null;
  step: string | null;
  busy: string | null;
  error: string | null;
  /** Follows `round` through the clinic's one poller of it until it closes (or `signal` aborts). */
  watch(access: ClinicAccess, round: number, signal: AbortSignal): Promise<void>;
  pollTimeline(token: string, federationId: string, currentRound: number, signal?: AbortSignal): Promise<void>;
  /** The 'sum' strategy step by step: encrypt and upload the tokens. */
  participate(args: { access: ClinicAccess; round: number; tokens: Float32Array[] }): Promise<void>;
  /** The 'sum' strategy step by step: download, verify and decrypt the summed tokens. */
  decryptAggregate(args: { access: ClinicAccess; round: number; tokenCount: number; dim: number }): Promise<void>;
  /** One click: tokens (from `ensureTokens`), contribution, upload, then resume(). */
  participateRound(access: ClinicAccess, federation: FederationView, tiles: { ensureTokens(): Promise<TileSnapshot>; current(): TileSnapshot }, local?: LocalTraining): Promise<RoundOutcome | null>;
  /**
   * Waits for the uploaded round to close, verifies and decrypts the aggregate, and turns it into the round's outcome
   * (scored on the tiles `tiles()` holds then: after a reload they may still be loading when the wait starts).
   */
  resume(access: ClinicAccess, tiles: () => TileSnapshot): Promise<RoundOutcome | null>;
  reset(): void;
}

const TIMELINE_ROUNDS = 8;
const contributionBytes = (values: number) => values * 8;
/** Participations being resumed (one wait per round however often the page asks). */
const resuming = new Set<string>();

const labelledOf = (snapshot: TileSnapshot, ids?: readonly string[]): LabelledTokens & { ids: string[] } => {
  const chosen = ids ? ids.map((id) => snapshot.tiles.find((t) => t.id === id)) : snapshot.tiles;
  const found = chosen.filter((t): t is TileView => t !== undefined && isClassLabel(t.label) && snapshot.tokens[t.id] !== undefined);
  return { ids: found.map((t) => t.id), tokens: found.map((t) => snapshot.tokens[t.id] as Float32Array), labels: found.map((t) => t.label as ClassLabel) };
};

const flatten = (tokens: readonly Float32Array[]): Float64Array => {
  const dim = tokens[0]?.length ?? 0;
  const out = new Float64Array(tokens.length * dim);
  tokens.forEach((t, i) => out.set(t, i * dim));
  return out;
};
const vectors = (flat: Float64Array, dim: number): Float64Array[] => Array.from({ length: dim ? flat.length / dim : 0 }, (_, i) => flat.slice(i * dim, (i + 1) * dim));

/** The bounds of the round a participation takes part in (public, the same at every clinic). */
const boundsOf = async (strategy: AppStrategy) => (strategy === 'fedavg-head' ? fedavgBounds() : PROTOTYPE_BOUNDS);

export const useRound = create<RoundState>()(
  persist(
    (set, get) => ({
      view: null,
      timeline: [],
      upload: null,
      participation: null,
      decryptedSum: null,
      step: null,
      busy: null,
      error: null,
      async watch(access, round, signal) {
        try {
          const view = await roundClient(access).wait(round, { signal, onView: (v) => (v ? set({ view: v, error: null }) : set({ error: `Could not read round ${round}: the coordinator is unreachable. The page retries by itself.` })) });
          set({ view });
        } catch (e) {
          if (!signal.aborted) set({ error: `Could not follow round ${round}: ${(e as Error).message}` });
        }
      },
      async pollTimeline(token, federationId, currentRound, signal) {
        const first = Math.max(1, currentRound - TIMELINE_ROUNDS + 1);
        try {
          const views = await Promise.all(Array.from({ length: currentRound - first + 1 }, (_, k) => coordinatorApi.round(token, federationId, currentRound - k, signal)));
          set({ timeline: views });
        } catch {
          // The round status line above reports connection problems; the timeline just keeps its last state.
        }
      },
      async participate({ access, round, tokens }) {
        set({ busy: 'Encrypting tokens in the HE worker and uploading them…', error: null });
        try {
          const receipt = await roundClient(access).contribute(round, flatten(tokens), PROTOTYPE_BOUNDS);
          set({
            busy: null,
            upload: { federationId: access.federationId, round, ciphertexts: receipt.ciphertexts, bytes: receipt.bytes, duplicate: receipt.duplicate, tokenCount: tokens.length, dim: tokens[0]?.length ?? 0 },
          });
        } catch (e) {
          set({ busy: null, error: `Upload failed: ${(e as Error).message}. Nothing was lost: press the button again.` });
        }
      },
      async decryptAggregate({ access, round, tokenCount, dim }) {
        set({ busy: 'Downloading, verifying and decrypting the sum locally…', error: null });
        try {
          const { sum } = await roundClient(access).download(round, tokenCount * dim, PROTOTYPE_BOUNDS);
          set({ busy: null, decryptedSum: vectors(sum, dim) });
        } catch (e) {
          set({ busy: null, error: `Could not decrypt the aggregate: ${(e as Error).message}` });
        }
      },
      async participateRound(access, federation, tiles, local) {
        const strategy = federation.strategy;
        if (!isAppStrategy(strategy)) {
          set({ error: `This federation uses the "${strategy}" strategy, which this app cannot run yet (it runs ${APP_STRATEGIES.join(', ')}). Ask your federation lead.` });
          return null;
        }
        if (strategy === 'fedavg-head' && !local) {
          set({ error: 'fedavg-head needs the local training settings (clinic and local epochs).' });
          return null;
        }
        const round = federation.currentRound;
        const presetId = federation.presetId as PresetId;
        const phaseMs: Partial<Record<Phase, number>> = {};
        const client = roundClient(access);
        set({ error: null, decryptedSum: null });
        try {
          let t0 = performance.now();
          set({ busy: 'Step 1 of 4: extracting [CLS] tokens of your tiles…' });
          const snapshot = await tiles.ensureTokens();
          const tokens = orderedTokens([...snapshot.tiles], { ...snapshot.tokens });
          if (!tokens) throw new Error(snapshot.tiles.length ? 'some tiles have no tokens (extraction did not finish); extract on the Slides page, then try again' : 'there are no tiles: add tiles on the Slides page first');
          const dim = tokens[0]?.length ?? 0;
          phaseMs.extract = performance.now() - t0;
          set({ busy: 'Step 2 of 4: preparing your contribution…' });
          t0 = performance.now();
          let values: Float64Array;
          let tileIds: string[] = [];
          let fedavg: FedAvgRound | undefined;
          if (strategy === 'fedavg-head' && local) {
            set({ busy: round > 1 ? `Step 2 of 4: decrypting the global head of round ${round - 1}…` : 'Step 2 of 4: starting from the zero head (round 1)…' });
            const start = await globalHeadBefore(client, { federationId: federation.id, round, dim });
            set({ busy: `Step 2 of 4: training the head locally (${local.epochs} epoch(s)) and encrypting it…` });
            const labelled = labelledOf(snapshot);
            const trained = await trainLocalRound({ federationId: federation.id, clinicId: local.clinicId, round, start, epochs: local.epochs, tiles: labelled.ids.map((id, i) => ({ id, token: labelled.tokens[i] as Float32Array, label: labelled.labels[i] as ClassLabel })) });
            tileIds = trained.validationTileIds;
            values = fedavgContribution(trained);
            fedavg = { epochs: local.epochs, backend: trained.backend, trainCount: trained.count, validationTileIds: trained.validationTileIds, startedFrom: start && { round: start.round, checksum: start.checksum }, globalChecksum: null };
          } else if (strategy === 'prototypes') {
            const labelled = labelledOf(snapshot);
            if (labelled.tokens.length === 0) throw new Error('the prototypes strategy needs labelled tiles: label tiles by folder or CSV on the Slides page');
            tileIds = labelled.ids;
            values = await prototypeContribution(labelled);
          } else {
            values = flatten(tokens);
          }
          set({ busy: `Step 3 of 4: encrypting and uploading ${client.ciphertextCount(values.length)} ciphertext(s)…` });
          const receipt = await client.contribute(round, values, await boundsOf(strategy));
          phaseMs.upload = receipt.ms;
          phaseMs.encrypt = performance.now() - t0 - receipt.ms;
          set({
            busy: null,
            upload: { federationId: federation.id, round, ciphertexts: receipt.ciphertexts, bytes: receipt.bytes, duplicate: receipt.duplicate, tokenCount: tokens.length, dim },
            participation: { federationId: federation.id, federationName: federation.name, presetId, round, strategy, phase: 'uploaded', contributionLength: values.length, dim, tileIds, phaseMs, bytesUp: receipt.bytes, fedavg },
          });
        } catch (e) {
          set({ busy: null, error: `Could not take part in round ${round}: ${(e as Error).message}` });
          return null;
        }
        return get().resume(access, tiles.current);
      },
      async resume(access, tiles) {
        const p = get().participation;
        if (!p || p.phase !== 'uploaded' || p.federationId !== access.federationId) return null;
        const key = `${p.federationId}#${p.round}`;
        if (resuming.has(key)) return null;
        resuming.add(key);
        const phaseMs = { ...p.phaseMs };
        const client = roundClient(access);
        try {
          let t0 = performance.now();
          await client.wait(p.round, {
            onView: (view) => {
              if (view) set({ view });
              set({ step: view ? `Step 4 of 4: waiting for the other clinics (${view.submitted.length} of ${view.quorum} needed have submitted)…` : 'Step 4 of 4: the coordinator is unreachable; retrying…' });
            },
          });
          if (get().participation !== p) return null;
          phaseMs.aggregate = performance.now() - t0;
          set({ step: 'Downloading, verifying and decrypting the sum…' });
          const aggregate = await client.download(p.round, p.contributionLength, await boundsOf(p.strategy));
          phaseMs.download = aggregate.downloadMs;
          phaseMs.decrypt = aggregate.decryptMs;
          t0 = performance.now();
          const snapshot = tiles();
          let accuracy: number | null = null;
          let note = 'The sum strategy adds token vectors; it produces no classifier to score.';
          let model: LinearHead | undefined;
          let done: Participation = { ...p, phase: 'done', phaseMs };
          if (p.strategy === 'fedavg-head' && p.fedavg) {
            const global = await globalHeadFromSum({ federationId: p.federationId, round: p.round, sum: aggregate.sum, dim: p.dim });
            const validation = labelledOf(snapshot, p.fedavg.validationTileIds);
            accuracy = validation.tokens.length ? accuracyOn(global.head, validation) : null;
            note = `Validation accuracy of each round's global head on this clinic's ${validation.tokens.length} held-out labelled tile(s), never trained on (fedavg-head, ${p.fedavg.epochs} local epoch(s) on ${p.fedavg.trainCount} tile(s)). Other clinics score it on their own held-out tiles.`;
            model = global.head;
            done = { ...done, fedavg: { ...p.fedavg, globalChecksum: global.checksum } };
          } else if (p.strategy === 'prototypes') {
            model = await headFromSum(aggregate.sum, p.dim);
            const labelled = labelledOf(snapshot, p.tileIds);
            accuracy = labelled.tokens.length ? accuracyOn(model, labelled) : null;
            note = `Accuracy on this clinic's ${labelled.tokens.length} labelled tiles (they were part of the training sum). The unencrypted domain needs every clinic's data in one place: see the demo or npm run simulate.`;
          } else {
            set({ decryptedSum: vectors(aggregate.sum, p.dim) });
          }
          phaseMs.evaluate = performance.now() - t0;
          const head: StoredHead | undefined = model && {
            federationId: p.federationId,
            federationName: p.federationName,
            round: p.round,
            strategy: p.strategy,
            modelSha256: snapshot.modelSha256 ?? 'unknown',
            classes: model.classes,
            dim: model.dim,
            weights: Array.from(model.weights),
            biases: Array.from(model.biases),
          };
          const result: RoundResult = {
            federationId: p.federationId,
            federationName: p.federationName,
            source: 'participation',
            round: p.round,
            strategy: p.strategy,
            completedAt: Date.now(),
            accuracyEncrypted: accuracy,
            accuracyUnencrypted: null,
            accuracyNote: note,
            bytesUpPerClinic: p.bytesUp,
            bytesDownPerClinic: aggregate.bytes,
            bytesPlainPerClinic: contributionBytes(p.contributionLength),
            phaseMs,
          };
          set({ participation: done, step: null });
          return head ? { result, head } : { result };
        } catch (e) {
          if (e instanceof RoundFailedError) {
            // Nothing to resume: the participation ends here, and the page offers the next round.
            set({ participation: null, step: null, error: `Round ${p.round} failed: ${e.message.replace(/^round \d+ failed: /, '')}. Take part again to contribute to it.` });
            return null;
          }
          const refused = e instanceof InclusionError;
          set({ step: null, error: refused ? `Round ${p.round}'s result is refused: ${e.message}. Tell your federation lead; nothing from this round is used.` : `Round ${p.round} closed but its result could not be used: ${(e as Error).message}. Reload to try again.` });
          return null;
        } finally {
          resuming.delete(key);
        }
      },
      reset() {
        set({ view: null, timeline: [], upload: null, participation: null, decryptedSum: null, step: null, error: null });
      },
    }),
    {
      name: 'cipherpath-round',
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ upload: s.upload, participation: s.participation }),
    },
  ),
);
