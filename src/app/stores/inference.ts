// Encrypted inference on the Inference page: which coordinator enrolment serves each model (this browser's session,
// or the demo's clinic B, remembered so the demo model stays usable after a reload), the published model's
// layout, publishing, and classifying chosen tiles encrypted beside the local plaintext check.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { formatBytes } from '../../common/format-bytes.ts';
import type { LinearHead } from '../../he/head.ts';
import type { InferenceMode } from '../../he/inference.ts';
import type { PublishedModel } from '../api/coordinator.ts';
import { classifyEncrypted, type HeadProtection, type InferenceAccess, publishedModel, publishInferenceModel } from '../lib/encrypted-inference.ts';
import { type Prediction, predict, predictionFromLogits } from '../lib/head-predictions.ts';

export interface TileToClassify {
  id: string;
  name: string;
  label: string | null;
  token: Float32Array;
}

export interface InferenceRow {
  id: string;
  name: string;
  label: string | null;
  local: Prediction;
  encrypted: Prediction | null;
  /** Largest |encrypted − local| logit. */
  logitDifference: number | null;
}

interface InferenceState {
  /** Demo federations' clinic B enrolment, by federation id (persisted). */
  demoAccess: Record<string, InferenceAccess>;
  /** The published model per federation: undefined = not asked yet, null = none published. */
  models: Record<string, PublishedModel | null>;
  modelError: string | null;
  publishing: string | null;
  publishError: string | null;
  publishNote: string | null;
  rows: InferenceRow[];
  progress: { done: number; total: number } | null;
  classifyError: string | null;
  summary: string | null;
  rememberDemoAccess(access: InferenceAccess): void;
  refreshModel(access: InferenceAccess): Promise<void>;
  publish(access: InferenceAccess, head: LinearHead, opts: { protection: HeadProtection; mode: InferenceMode }): Promise<void>;
  classify(access: InferenceAccess | null, head: LinearHead, tiles: readonly TileToClassify[]): Promise<void>;
}


export const useInference = create<InferenceState>()(
  persist(
    (set, get) => ({
      demoAccess: {},
      models: {},
      modelError: null,
      publishing: null,
      publishError: null,
      publishNote: null,
      rows: [],
      progress: null,
      classifyError: null,
      summary: null,
      rememberDemoAccess(access) {
        set((s) => ({ demoAccess: { ...s.demoAccess, [access.federationId]: access } }));
      },
      async refreshModel(access) {
        try {
          const model = await publishedModel(access);
          set((s) => ({ models: { ...s.models, [access.federationId]: model }, modelError: null }));
        } catch (e) {
          set({ modelError: `Could not ask the coordinator for the published model: ${(e as Error).message}. Check the connection and reload the page.` });
        }
      },
      async publish(access, head, opts) {
        if (get().publishing) return;
        set({ publishing: `Making evaluation keys and ${opts.protection === 'encrypted' ? 'encrypting' : 'packing'} the model…`, publishError: null, publishNote: null });
        try {
          const report = await publishInferenceModel(access, head, opts);
          set({
            publishing: null,
            publishNote: `Published as ${access.clinicName}: ${report.encrypted ? 'the head encrypted (the coordinator sees only ciphertexts)' : 'the head in clear'}, ${report.layout.mode} layout (${report.layout.tokensPerGroup} tile(s) per ciphertext); uploaded ${formatBytes(report.bytes.galoisKeys)} of Galois keys${report.bytes.relinKeys ? `, ${formatBytes(report.bytes.relinKeys)} of relinearization keys` : ''} and a ${formatBytes(report.bytes.model)} model.`,
          });
          await get().refreshModel(access);
        } catch (e) {
          set({ publishing: null, publishError: `Publishing failed: ${(e as Error).message}.` });
        }
      },
      async classify(access, head, tiles) {
        if (get().progress && (get().progress?.done ?? 0) < (get().progress?.total ?? 0)) return;
        let local: InferenceRow[];
        try {
          local = tiles.map((t) => ({ id: t.id, name: t.name, label: t.label, local: predict(head, t.token), encrypted: null, logitDifference: null }));
        } catch (e) {
          set({ rows: [], progress: null, summary: null, classifyError: `Classification failed: ${(e as Error).message}. Check that the tiles were extracted with the model this federation was trained on.` });
          return;
        }
        set({ rows: local, classifyError: null, summary: null, progress: { done: access ? 0 : tiles.length, total: tiles.length } });
        if (!access) return;
        try {
          const t0 = performance.now();
          const result = await classifyEncrypted(
            access,
            tiles.map((t) => t.token),
            (done, total) => set({ progress: { done, total } }),
          );
          const rows = local.map((row, i): InferenceRow => {
            const logits = Array.from(result.logits[i] ?? []);
            return { ...row, encrypted: predictionFromLogits(logits), logitDifference: Math.max(...logits.map((l, c) => Math.abs(l - (row.local.logits[c] ?? NaN)))) };
          });
          const agree = rows.filter((r) => r.encrypted?.label === r.local.label).length;
          const seconds = (performance.now() - t0) / 1000;
          set({
            rows,
            summary: `Encrypted inference at the coordinator agrees with the local plaintext check on ${agree} of ${rows.length} tile(s) (${result.model.encrypted ? 'encrypted head' : 'head in clear'}, ${result.model.layout.mode} layout; sent ${formatBytes(result.bytesUp)}, received ${formatBytes(result.bytesDown)} of ciphertext in ${seconds.toFixed(1)} s).`,
          });
        } catch (e) {
          set({ progress: null, classifyError: `Encrypted inference failed: ${(e as Error).message}. The local plaintext check above still ran.` });
        }
      },
    }),
    { name: 'cipherpath-inference', storage: createJSONStorage(() => localStorage), partialize: (s) => ({ demoAccess: s.demoAccess }) },
  ),
);
