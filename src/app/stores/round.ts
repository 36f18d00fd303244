// Taking part in a round: the state and progress of this clinic's participation and of the rounds the page follows.
// The round itself is src/fl's: LiveRound (the strategy from src/fl's registry; contribution and upload; wait,
// download, inclusion check, decryption and the next global head) over the RoundClient that lib/round-client.ts binds
// to this browser, and one poller per round (lib/round-poller.ts) shared by the status line, the timeline and the
// participation. Nothing here depends on which strategy runs beyond its traits (src/fl/strategies/live-traits.ts).
// The upload and a participation in progress are kept in localStorage, so a reload in the middle of a round resumes
// waiting and decrypts when the round closes. Components pass in what other stores hold (tiles and tokens) and record
// the outcome in the results store.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { InclusionError } from '../../fl/inclusion.ts';
import type { LiveStep, LiveTile } from '../../fl/live-round.ts';
import { RoundFailedError } from '../../fl/round-poller.ts';
import { ROUND_TRAITS } from '../../fl/strategies/live-traits.ts';
import type { PresetId } from '../../he/params.ts';
import type { FederationView, RoundView } from '../../protocol/api.ts';
import type { ClassLabel } from '../../protocol/vocabulary.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { globalHeadStore } from '../lib/global-heads.ts';
import { workerTrainer } from '../lib/head-trainer.ts';
import { accuracyOn, type LabelledTokens } from '../lib/head-predictions.ts';
import { isClassLabel } from '../lib/labels.ts';
import { type ClinicAccess, roundClient } from '../lib/round-client.ts';
import { roundPoller } from '../lib/round-poller.ts';
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

/** Local training's record of one round at this clinic (strategies that train locally, e.g. fedavg-head). */
export interface LocalTrainingRound {
  epochs: number;
  /** The tfjs backend local training ran on (a hardware GPU when the browser offers one). */
  backend?: string | undefined;
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
  /** The labelled tiles the round's model is scored on (held out, or those contributed). */
  tileIds: string[];
  phaseMs: Partial<Record<Phase, number>>;
  bytesUp: number;
  training?: LocalTrainingRound;
}

/** This clinic's tiles and tokens as the tiles store holds them, read by the caller (stores never read each other). */
export interface TileSnapshot {
  tiles: readonly TileView[];
  tokens: Readonly<Record<string, Float32Array>>;
  modelSha256: string | null;
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
  /** The participation being finished ("fid#round"), so that it is finished once however often the page asks. */
  finishing: string | null;
  /** Follows `round` through the federation's one poller of it until it closes (or `signal` aborts). */
  watch(access: ClinicAccess, round: number, signal: AbortSignal): Promise<void>;
  /** The last rounds up to `currentRound`: the earlier ones read once (they are settled), the current one followed. */
  followTimeline(token: string, federationId: string, currentRound: number, signal: AbortSignal): Promise<void>;
  /** The token sum step by step: encrypt and upload the tokens. */
  participate(args: { access: ClinicAccess; round: number; tokens: Float32Array[] }): Promise<void>;
  /** The token sum step by step: download, verify and decrypt the summed tokens. */
  decryptAggregate(args: { access: ClinicAccess; round: number; tokenCount: number; dim: number }): Promise<void>;
  /** One click: tokens (from `ensureTokens`), contribution, upload, then resume(). `epochs`: local training's. */
  participateRound(access: ClinicAccess, federation: FederationView, tiles: { ensureTokens(): Promise<TileSnapshot>; current(): TileSnapshot }, local?: { epochs: number }): Promise<RoundOutcome | null>;
  /**
   * Waits for the uploaded round to close, verifies and decrypts the aggregate, and turns it into the round's outcome
   * (scored on the tiles `tiles()` holds then: after a reload they may still be loading when the wait starts).
   */
  resume(access: ClinicAccess, tiles: () => TileSnapshot): Promise<RoundOutcome | null>;
  reset(): void;
}

const TIMELINE_ROUNDS = 8;
const contributionBytes = (values: number) => values * 8;

const labelledOf = (snapshot: TileSnapshot, ids: readonly string[]): LabelledTokens => {
  const found = ids.map((id) => snapshot.tiles.find((t) => t.id === id)).filter((t): t is TileView => t !== undefined && isClassLabel(t.label) && snapshot.tokens[t.id] !== undefined);
  return { tokens: found.map((t) => snapshot.tokens[t.id] as Float32Array), labels: found.map((t) => t.label as ClassLabel) };
};
const liveTiles = (snapshot: TileSnapshot): LiveTile[] =>
  snapshot.tiles.flatMap((t) => {
    const token = snapshot.tokens[t.id];
    return token ? [{ id: t.id, token, label: isClassLabel(t.label) ? t.label : null }] : [];
  });
const vectors = (flat: Float64Array, dim: number): Float64Array[] => Array.from({ length: dim ? flat.length / dim : 0 }, (_, i) => flat.slice(i * dim, (i + 1) * dim));

/** src/fl's live round of `strategy` for this clinic, loaded on demand (its strategies pull tfjs and SEAL's glue in). */
async function liveRound(access: ClinicAccess, strategy: AppStrategy, epochs?: number, onEpoch?: (done: number, epochs: number) => void) {
  const { LiveRound } = await import('../../fl/live-round.ts');
  const trainer = workerTrainer(onEpoch);
  const live = new LiveRound({ client: roundClient(access), strategy, ...(epochs === undefined ? {} : { epochs }), trainHead: trainer.trainHead, heads: globalHeadStore(access.federationId) });
  return { live, trainer };
}

function stepText(step: LiveStep, epochs: number | undefined): string {
  if (step.step === 'start-head') return step.from ? `Step 2 of 4: decrypting the global head of round ${step.from}…` : 'Step 2 of 4: starting from the zero head (round 1)…';
  if (step.step === 'upload') return `Step 3 of 4: encrypting and uploading ${step.ciphertexts} ciphertext(s)…`;
  return epochs === undefined ? 'Step 2 of 4: preparing your contribution…' : `Step 2 of 4: training the head locally (${epochs} epoch(s)) and encrypting it…`;
}

function accuracyNote(p: Participation, scored: number): string {
  const { trainsLocally, learnsHead } = ROUND_TRAITS[p.strategy];
  if (trainsLocally && p.training) {
    return `Validation accuracy of each round's global head on this clinic's ${scored} held-out labelled tile(s), never trained on (${p.strategy}, ${p.training.epochs} local epoch(s) on ${p.training.trainCount} tile(s)). Other clinics score it on their own held-out tiles.`;
  }
  if (learnsHead) return `Accuracy on this clinic's ${scored} labelled tiles (they were part of the training sum). The unencrypted domain needs every clinic's data in one place: see the demo or npm run simulate.`;
  return `The ${p.strategy} strategy adds token vectors; it produces no classifier to score.`;
}

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
      finishing: null,
      async watch(access, round, signal) {
        try {
          const view = await roundPoller(access.token, access.federationId).follow(round, { signal, onView: (v) => (v ? set({ view: v, error: null }) : set({ error: `Could not read round ${round}: the coordinator is unreachable. The page retries by itself.` })) });
          set({ view });
        } catch (e) {
          if (!signal.aborted) set({ error: `Could not follow round ${round}: ${(e as Error).message}` });
        }
      },
      async followTimeline(token, federationId, currentRound, signal) {
        const first = Math.max(1, currentRound - TIMELINE_ROUNDS + 1);
        const settled = Array.from({ length: currentRound - first }, (_, k) => currentRound - 1 - k);
        // The status line above reports connection problems; the timeline just keeps what it could read.
        const earlier = await Promise.all(settled.map((r) => coordinatorApi.round(token, federationId, r, signal))).catch(() => [] as RoundView[]);
        const show = (current: RoundView) => !signal.aborted && set({ timeline: [current, ...earlier] });
        await roundPoller(token, federationId)
          .follow(currentRound, { signal, onView: (view) => view && show(view) })
          .then(show, () => undefined);
      },
      async participate({ access, round, tokens }) {
        set({ busy: 'Encrypting tokens in the HE worker and uploading them…', error: null });
        try {
          const { live } = await liveRound(access, 'sum');
          const { upload } = await live.contribute(round, tokens.map((token, i) => ({ id: String(i), token, label: null })));
          set({
            busy: null,
            upload: { federationId: access.federationId, round, ciphertexts: upload.ciphertexts, bytes: upload.bytes, duplicate: upload.duplicate, tokenCount: tokens.length, dim: tokens[0]?.length ?? 0 },
          });
        } catch (e) {
          set({ busy: null, error: `Upload failed: ${(e as Error).message}. Nothing was lost: press the button again.` });
        }
      },
      async decryptAggregate({ access, round, tokenCount, dim }) {
        set({ busy: 'Downloading, verifying and decrypting the sum locally…', error: null });
        try {
          const { live } = await liveRound(access, 'sum');
          const { aggregate } = await live.finish(round, { length: tokenCount * dim, dim });
          set({ busy: null, decryptedSum: vectors(aggregate.sum, dim) });
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
        const { trainsLocally } = ROUND_TRAITS[strategy];
        if (trainsLocally && !local) {
          set({ error: `${strategy} needs the local training settings (local epochs).` });
          return null;
        }
        const epochs = trainsLocally ? local?.epochs : undefined;
        const round = federation.currentRound;
        const phaseMs: Partial<Record<Phase, number>> = {};
        set({ error: null, decryptedSum: null });
        try {
          const t0 = performance.now();
          set({ busy: 'Step 1 of 4: extracting [CLS] tokens of your tiles…' });
          const snapshot = await tiles.ensureTokens();
          const tokens = orderedTokens([...snapshot.tiles], { ...snapshot.tokens });
          if (!tokens) throw new Error(snapshot.tiles.length ? 'some tiles have no tokens (extraction did not finish); extract on the Slides page, then try again' : 'there are no tiles: add tiles on the Slides page first');
          phaseMs.extract = performance.now() - t0;
          set({ busy: 'Step 2 of 4: preparing your contribution…' });
          const { live, trainer } = await liveRound(access, strategy, epochs, (done, total) => set({ busy: `Step 2 of 4: training the head locally (epoch ${done} of ${total}) and encrypting it…` }));
          const c = await live.contribute(round, liveTiles(snapshot), (step) => set({ busy: stepText(step, epochs) }));
          phaseMs.upload = c.upload.ms;
          phaseMs.encrypt = c.ms - c.upload.ms;
          const training = epochs === undefined ? undefined : { epochs, backend: trainer.backend(), trainCount: c.trainCount, validationTileIds: c.scoredTileIds, startedFrom: c.startedFrom, globalChecksum: null };
          set({
            busy: null,
            upload: { federationId: federation.id, round, ciphertexts: c.upload.ciphertexts, bytes: c.upload.bytes, duplicate: c.upload.duplicate, tokenCount: tokens.length, dim: c.dim },
            participation: {
              federationId: federation.id,
              federationName: federation.name,
              presetId: federation.presetId as PresetId,
              round,
              strategy,
              phase: 'uploaded',
              contributionLength: c.values.length,
              dim: c.dim,
              tileIds: c.scoredTileIds,
              phaseMs,
              bytesUp: c.upload.bytes,
              ...(training ? { training } : {}),
            },
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
        if (get().finishing === key) return null;
        set({ finishing: key });
        try {
          const { live } = await liveRound(access, p.strategy, p.training?.epochs);
          const { aggregate, global, waitMs } = await live.finish(p.round, { length: p.contributionLength, dim: p.dim }, {
            onView: (view) => {
              if (view) set({ view });
              set({ step: view ? `Step 4 of 4: waiting for the other clinics (${view.submitted.length} of ${view.quorum} needed have submitted)…` : 'Step 4 of 4: the coordinator is unreachable; retrying…' });
            },
          });
          if (get().participation !== p) return null;
          const phaseMs = { ...p.phaseMs, aggregate: waitMs, download: aggregate.downloadMs, decrypt: aggregate.decryptMs };
          const t0 = performance.now();
          const snapshot = tiles();
          const scored = labelledOf(snapshot, p.tileIds);
          const accuracy = global && scored.tokens.length ? accuracyOn(global.head, scored) : null;
          if (!global) set({ decryptedSum: vectors(aggregate.sum, p.dim) });
          phaseMs.evaluate = performance.now() - t0;
          const model = global?.head;
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
            accuracyNote: accuracyNote(p, scored.tokens.length),
            bytesUpPerClinic: p.bytesUp,
            bytesDownPerClinic: aggregate.bytes,
            bytesPlainPerClinic: contributionBytes(p.contributionLength),
            phaseMs,
          };
          const training = p.training && { ...p.training, globalChecksum: global?.checksum ?? null };
          set({ participation: { ...p, phase: 'done', phaseMs, ...(training ? { training } : {}) }, step: null });
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
          if (get().finishing === key) set({ finishing: null });
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
      // Version 1 names local training's record `training` (version 0 called it `fedavg`, after its one strategy).
      version: 1,
      migrate: (persisted, version) => {
        const state = persisted as { participation?: (Participation & { fedavg?: LocalTrainingRound }) | null };
        if (version < 1 && state.participation?.fedavg) {
          const { fedavg, ...rest } = state.participation;
          state.participation = { ...rest, training: fedavg };
        }
        return state as RoundState;
      },
    },
  ),
);
