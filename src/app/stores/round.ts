// Taking part in a round: encrypt this clinic's contribution in the HE worker, upload the ciphertexts, follow the
// round, then download the homomorphic sum and decrypt it locally. The upload and a participation in progress are
// kept in localStorage, so a reload in the middle of a round resumes waiting and decrypts when the round closes.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { formatBytes } from '../../common/format-bytes.ts';
import type { PresetId } from '../../he/params.ts';
import type { FederationView, RoundView } from '../../protocol/api.ts';
import { decodeBundle, encodeBundle } from '../../protocol/bundle.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { globalHeadBefore, globalHeadFromAggregate, trainLocalRound } from '../lib/fedavg.ts';
import { accuracyOn, decryptSum, encryptContribution, headFromSum, prototypeContribution } from '../lib/federated-head.ts';
import { isClassLabel } from '../lib/labels.ts';
import { APP_STRATEGIES, type AppStrategy, isAppStrategy } from '../lib/strategies.ts';
import { heWorker } from '../workers.ts';
import { type Phase, useResults } from './results.ts';
import { orderedTokens, useTiles } from './tiles.ts';

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

interface Clinic {
  token: string;
  federation: FederationView;
  secretKey: Uint8Array;
}

/** fedavg-head's local training settings: the clinic (its split and seeds) and the local epochs. */
export interface LocalTraining {
  clinicId: string;
  epochs: number;
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
  poll(token: string, federationId: string, round: number, signal?: AbortSignal): Promise<void>;
  pollTimeline(token: string, federationId: string, currentRound: number, signal?: AbortSignal): Promise<void>;
  participate(args: { token: string; federationId: string; presetId: PresetId; round: number; secretKey: Uint8Array; tokens: Float32Array[] }): Promise<void>;
  decryptAggregate(args: { token: string; federationId: string; presetId: PresetId; round: number; secretKey: Uint8Array; tokenCount: number; dim: number }): Promise<void>;
  participateRound(clinic: Clinic, forcedBackend: Parameters<ReturnType<typeof useTiles.getState>['extract']>[0], local?: LocalTraining): Promise<void>;
  resume(clinic: Clinic): Promise<void>;
  reset(): void;
}

const TIMELINE_ROUNDS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let waiting: string | null = null;

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
      async poll(token, federationId, round, signal) {
        try {
          set({ view: await coordinatorApi.round(token, federationId, round, signal) });
        } catch (e) {
          if (!signal?.aborted) set({ error: `Could not read round ${round}: ${(e as Error).message}. The page retries by itself.` });
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
      async participate({ token, federationId, presetId, round, secretKey, tokens }) {
        set({ busy: 'Encrypting tokens in the HE worker…', error: null });
        try {
          const ciphertexts = await heWorker().encryptTokenBatch(presetId, secretKey, federationId, tokens);
          const bundle = encodeBundle(ciphertexts);
          set({ busy: `Uploading ${ciphertexts.length} ciphertext(s), ${formatBytes(bundle.byteLength)}…` });
          const result = await coordinatorApi.upload(token, federationId, round, bundle);
          set({
            busy: null,
            upload: { federationId, round, ciphertexts: ciphertexts.length, bytes: bundle.byteLength, duplicate: result.duplicate, tokenCount: tokens.length, dim: tokens[0]?.length ?? 0 },
          });
        } catch (e) {
          set({ busy: null, error: `Upload failed: ${(e as Error).message}. Nothing was lost: press the button again.` });
        }
      },
      async decryptAggregate({ token, federationId, presetId, round, secretKey, tokenCount, dim }) {
        set({ busy: 'Downloading the encrypted sum…', error: null });
        try {
          const bundle = await coordinatorApi.aggregate(token, federationId, round);
          set({ busy: 'Decrypting the sum locally…' });
          const sum = await heWorker().decryptTokenBatch(presetId, secretKey, decodeBundle(bundle), tokenCount, dim);
          set({ busy: null, decryptedSum: sum });
        } catch (e) {
          set({ busy: null, error: `Could not decrypt the aggregate: ${(e as Error).message}` });
        }
      },
      async participateRound(clinic, forcedBackend, local) {
        const { federation, token, secretKey } = clinic;
        const strategy = federation.strategy;
        if (!isAppStrategy(strategy)) {
          set({ error: `This federation uses the "${strategy}" strategy, which this app cannot run yet (it runs ${APP_STRATEGIES.join(', ')}). Ask your federation lead.` });
          return;
        }
        if (strategy === 'fedavg-head' && !local) {
          set({ error: 'fedavg-head needs the local training settings (clinic and local epochs).' });
          return;
        }
        const round = federation.currentRound;
        const presetId = federation.presetId as PresetId;
        const phaseMs: Partial<Record<Phase, number>> = {};
        set({ error: null, decryptedSum: null });
        try {
          let t0 = performance.now();
          if (!orderedTokens(useTiles.getState().tiles, useTiles.getState().tokens)) {
            set({ busy: 'Step 1 of 4: extracting [CLS] tokens of your tiles…' });
            await useTiles.getState().extract(forcedBackend);
          }
          const tiles = useTiles.getState();
          const tokens = orderedTokens(tiles.tiles, tiles.tokens);
          if (!tokens) throw new Error(tiles.tiles.length ? 'some tiles have no tokens (extraction did not finish); extract on the Slides page, then try again' : 'there are no tiles: add tiles on the Slides page first');
          phaseMs.extract = performance.now() - t0;
          set({ busy: 'Step 2 of 4: encrypting your contribution…' });
          t0 = performance.now();
          let parts: Uint8Array[];
          let contributionLength: number;
          let tileIds: string[] = [];
          let fedavg: FedAvgRound | undefined;
          if (strategy === 'fedavg-head' && local) {
            const labelled = tiles.tiles.filter((t) => isClassLabel(t.label));
            const dim = tokens[0]?.length ?? 0;
            set({ busy: round > 1 ? `Step 2 of 4: decrypting the global head of round ${round - 1}…` : 'Step 2 of 4: starting from the zero head (round 1)…' });
            const start = await globalHeadBefore({ token, federationId: federation.id, presetId, secretKey, round, dim });
            set({ busy: `Step 2 of 4: training the head locally (${local.epochs} epoch(s)) and encrypting it…` });
            const trained = await trainLocalRound({
              federationId: federation.id,
              clinicId: local.clinicId,
              round,
              start,
              epochs: local.epochs,
              tiles: labelled.map((t) => ({ id: t.id, token: tiles.tokens[t.id] as Float32Array, label: t.label as NonNullable<typeof t.label> })),
            });
            tileIds = trained.validationTileIds;
            contributionLength = trained.values.length;
            parts = await heWorker().encryptWeightedContribution(presetId, secretKey, federation.id, trained.values, trained.count, trained.bounds);
            fedavg = { epochs: local.epochs, backend: trained.backend, trainCount: trained.count, validationTileIds: trained.validationTileIds, startedFrom: start && { round: start.round, checksum: start.checksum }, globalChecksum: null };
          } else if (strategy === 'prototypes') {
            const labelled = tiles.tiles.filter((t) => isClassLabel(t.label));
            if (labelled.length === 0) throw new Error('the prototypes strategy needs labelled tiles: label tiles by folder or CSV on the Slides page');
            tileIds = labelled.map((t) => t.id);
            const values = await prototypeContribution({ tokens: labelled.map((t) => tiles.tokens[t.id] as Float32Array), labels: labelled.map((t) => t.label as NonNullable<typeof t.label>) });
            contributionLength = values.length;
            parts = await encryptContribution(presetId, secretKey, federation.id, values);
          } else {
            contributionLength = tokens.length * (tokens[0]?.length ?? 0);
            parts = await heWorker().encryptTokenBatch(presetId, secretKey, federation.id, tokens);
          }
          phaseMs.encrypt = performance.now() - t0;
          const bundle = encodeBundle(parts);
          set({ busy: `Step 3 of 4: uploading ${parts.length} ciphertext(s), ${formatBytes(bundle.byteLength)}…` });
          t0 = performance.now();
          const uploaded = await coordinatorApi.upload(token, federation.id, round, bundle);
          phaseMs.upload = performance.now() - t0;
          const dim = tokens[0]?.length ?? 0;
          set({
            busy: null,
            upload: { federationId: federation.id, round, ciphertexts: parts.length, bytes: bundle.byteLength, duplicate: uploaded.duplicate, tokenCount: tokens.length, dim },
            participation: { federationId: federation.id, federationName: federation.name, presetId, round, strategy, phase: 'uploaded', contributionLength, dim, tileIds, phaseMs, bytesUp: bundle.byteLength, fedavg },
          });
        } catch (e) {
          set({ busy: null, error: `Could not take part in round ${round}: ${(e as Error).message}` });
          return;
        }
        await get().resume(clinic);
      },
      async resume(clinic) {
        const p = get().participation;
        if (!p || p.phase !== 'uploaded' || p.federationId !== clinic.federation.id) return;
        const key = `${p.federationId}#${p.round}`;
        if (waiting === key) return;
        waiting = key;
        const phaseMs = { ...p.phaseMs };
        try {
          let t0 = performance.now();
          for (;;) {
            const view = await coordinatorApi.round(clinic.token, p.federationId, p.round).catch(() => null);
            if (view) set({ view });
            if (view?.status === 'closed') break;
            set({ step: view ? `Step 4 of 4: waiting for the other clinics (${view.submitted.length} of ${view.quorum} needed have submitted)…` : 'Step 4 of 4: the coordinator is unreachable; retrying…' });
            if (get().participation !== p) return;
            await sleep(1000);
          }
          phaseMs.aggregate = performance.now() - t0;
          set({ step: 'Downloading and decrypting the sum…' });
          t0 = performance.now();
          const bundle = await coordinatorApi.aggregate(clinic.token, p.federationId, p.round);
          phaseMs.download = performance.now() - t0;
          t0 = performance.now();
          const tiles = useTiles.getState();
          let accuracy: number | null = null;
          let note = 'The sum strategy adds token vectors; it produces no classifier to score.';
          let head;
          let done: Participation = { ...p, phase: 'done', phaseMs };
          const labelledTiles = (ids: string[]) => {
            const found = ids.map((id) => tiles.tiles.find((t) => t.id === id)).filter((t): t is NonNullable<typeof t> => t !== undefined && isClassLabel(t.label) && tiles.tokens[t.id] !== undefined);
            return { tokens: found.map((t) => tiles.tokens[t.id] as Float32Array), labels: found.map((t) => t.label as NonNullable<typeof t.label>) };
          };
          if (p.strategy === 'fedavg-head' && p.fedavg) {
            const global = await globalHeadFromAggregate({ federationId: p.federationId, presetId: p.presetId, secretKey: clinic.secretKey, round: p.round, parts: decodeBundle(bundle), dim: p.dim });
            phaseMs.decrypt = performance.now() - t0;
            t0 = performance.now();
            const validation = labelledTiles(p.fedavg.validationTileIds);
            accuracy = validation.tokens.length ? accuracyOn(global.head, validation) : null;
            note = `Validation accuracy of each round's global head on this clinic's ${validation.tokens.length} held-out labelled tile(s), never trained on (fedavg-head, ${p.fedavg.epochs} local epoch(s) on ${p.fedavg.trainCount} tile(s)). Other clinics score it on their own held-out tiles.`;
            head = { federationId: p.federationId, federationName: p.federationName, round: p.round, strategy: p.strategy, modelSha256: tiles.modelSha256 ?? 'unknown', classes: global.head.classes, dim: global.head.dim, weights: Array.from(global.head.weights), biases: Array.from(global.head.biases) };
            done = { ...done, fedavg: { ...p.fedavg, globalChecksum: global.checksum } };
          } else if (p.strategy === 'prototypes') {
            const { sum } = await decryptSum(p.presetId, clinic.secretKey, decodeBundle(bundle), p.contributionLength);
            phaseMs.decrypt = performance.now() - t0;
            t0 = performance.now();
            const model = await headFromSum(sum, p.dim);
            const labelled = labelledTiles(p.tileIds);
            accuracy = labelled.tokens.length ? accuracyOn(model, labelled) : null;
            note = `Accuracy on this clinic's ${labelled.tokens.length} labelled tiles (they were part of the training sum). The unencrypted domain needs every clinic's data in one place: see the demo or npm run simulate.`;
            head = {
              federationId: p.federationId,
              federationName: p.federationName,
              round: p.round,
              strategy: p.strategy,
              modelSha256: tiles.modelSha256 ?? 'unknown',
              classes: model.classes,
              dim: model.dim,
              weights: Array.from(model.weights),
              biases: Array.from(model.biases),
            };
          } else {
            const { upload } = get();
            const sum = await heWorker().decryptTokenBatch(p.presetId, clinic.secretKey, decodeBundle(bundle), upload?.tokenCount ?? 0, p.dim);
            phaseMs.decrypt = performance.now() - t0;
            t0 = performance.now();
            set({ decryptedSum: sum });
          }
          phaseMs.evaluate = performance.now() - t0;
          useResults.getState().record(
            {
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
              bytesDownPerClinic: bundle.byteLength,
              bytesPlainPerClinic: p.contributionLength * 8,
              phaseMs,
            },
            head,
          );
          set({ participation: done, step: null });
        } catch (e) {
          set({ step: null, error: `Round ${p.round} closed but its result could not be used: ${(e as Error).message}. Reload to try again.` });
        } finally {
          waiting = null;
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
