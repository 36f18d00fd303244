// Taking part in a round: encrypt this clinic's tokens in the HE worker, upload the ciphertexts, follow the round,
// then download the homomorphic sum and decrypt it locally.
import { create } from 'zustand';
import type { PresetId } from '../../he/params.ts';
import type { RoundView } from '../../protocol/api.ts';
import { decodeBundle, encodeBundle } from '../../protocol/bundle.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { heWorker } from '../workers.ts';

export interface UploadSummary {
  round: number;
  ciphertexts: number;
  bytes: number;
  duplicate: boolean;
}

interface RoundState {
  view: RoundView | null;
  upload: UploadSummary | null;
  decryptedSum: Float64Array[] | null;
  busy: string | null;
  error: string | null;
  poll(token: string, federationId: string, round: number, signal?: AbortSignal): Promise<void>;
  participate(args: { token: string; federationId: string; presetId: PresetId; round: number; secretKey: Uint8Array; tokens: Float32Array[] }): Promise<void>;
  decryptAggregate(args: { token: string; federationId: string; presetId: PresetId; round: number; secretKey: Uint8Array; tokenCount: number; dim: number }): Promise<void>;
}

export const useRound = create<RoundState>()((set) => ({
  view: null,
  upload: null,
  decryptedSum: null,
  busy: null,
  error: null,
  async poll(token, federationId, round, signal) {
    try {
      set({ view: await coordinatorApi.round(token, federationId, round, signal) });
    } catch (e) {
      if (!signal?.aborted) set({ error: `Could not read the round: ${(e as Error).message}` });
    }
  },
  async participate({ token, federationId, presetId, round, secretKey, tokens }) {
    set({ busy: 'Encrypting tokens in the HE worker…', error: null });
    try {
      const ciphertexts = await heWorker().encryptTokenBatch(presetId, secretKey, federationId, tokens);
      const bundle = encodeBundle(ciphertexts);
      set({ busy: `Uploading ${ciphertexts.length} ciphertext(s), ${(bundle.byteLength / 1024).toFixed(0)} KiB…` });
      const result = await coordinatorApi.upload(token, federationId, round, bundle);
      set({ busy: null, upload: { round, ciphertexts: ciphertexts.length, bytes: bundle.byteLength, duplicate: result.duplicate } });
    } catch (e) {
      set({ busy: null, error: `Upload failed: ${(e as Error).message}` });
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
}));
