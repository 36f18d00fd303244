// The federation secret key of this clinic: created here (founder) or imported from a passphrase-protected key file.
// It lives in the HE worker's requests and the encrypted key vault; it is never sent to the coordinator.
import { PRESETS, type PresetId } from '../../he/params.ts';
import { loadSecretKey, storeSecretKey } from '../lib/keyvault.ts';
import { heWorker } from '../workers.ts';
import { create } from 'zustand';

export const MAX_KEY_FILE_BYTES = 4 * 1024 * 1024;

interface KeyState {
  federationId: string | null;
  secretKey: Uint8Array | null;
  busy: string | null;
  error: string | null;
  restore(federationId: string): Promise<void>;
  createKey(federationId: string, presetId: PresetId): Promise<void>;
  importKeyFile(federationId: string, file: File, passphrase: string): Promise<void>;
  exportKeyFile(passphrase: string): Promise<Blob | null>;
}

export const useKeys = create<KeyState>()((set, get) => ({
  federationId: null,
  secretKey: null,
  busy: null,
  error: null,
  async restore(federationId) {
    if (get().federationId === federationId && get().secretKey) return;
    try {
      const secretKey = (await loadSecretKey(federationId)) ?? null;
      set({ federationId, secretKey });
    } catch (e) {
      set({ federationId, error: `The stored key could not be opened: ${(e as Error).message}` });
    }
  },
  async createKey(federationId, presetId) {
    if (!(presetId in PRESETS)) {
      set({ error: `This federation uses an unknown parameter preset (${presetId}); update cipherpath.` });
      return;
    }
    set({ busy: 'Creating the federation key…', error: null });
    try {
      const secretKey = await heWorker().generateSecretKey(presetId, federationId);
      await storeSecretKey(federationId, secretKey);
      set({ federationId, secretKey, busy: null });
    } catch (e) {
      set({ busy: null, error: `Could not create the key: ${(e as Error).message}` });
    }
  },
  async importKeyFile(federationId, file, passphrase) {
    if (file.size > MAX_KEY_FILE_BYTES) {
      set({ error: `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; a key file is at most ${MAX_KEY_FILE_BYTES / 1e6} MB.` });
      return;
    }
    set({ busy: 'Opening the key file…', error: null });
    try {
      const secretKey = await heWorker().openKeyFile(new Uint8Array(await file.arrayBuffer()), passphrase);
      await storeSecretKey(federationId, secretKey);
      set({ federationId, secretKey, busy: null });
    } catch (e) {
      set({ busy: null, error: `Could not import ${file.name}: ${(e as Error).message}` });
    }
  },
  async exportKeyFile(passphrase) {
    const { secretKey } = get();
    if (!secretKey) return null;
    if (passphrase.length < 8) {
      set({ error: 'Choose a passphrase of at least 8 characters to protect the key file.' });
      return null;
    }
    set({ busy: 'Protecting the key file…', error: null });
    try {
      const file = await heWorker().sealKeyFile(secretKey, passphrase);
      set({ busy: null });
      return new Blob([file as BlobPart], { type: 'application/octet-stream' });
    } catch (e) {
      set({ busy: null, error: `Could not export the key: ${(e as Error).message}` });
      return null;
    }
  },
}));
