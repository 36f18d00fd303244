// The federation secret keys of this clinic (aggregation + inference, see lib/federation-keys.ts): created here
// (founder), received through the key relay (stores/relay.ts: wrapped for this clinic alone after both people
// confirmed the relay code), or imported from a passphrase-protected key file. They live in the encrypted key vault
// and in HE worker requests; never on the wire in clear.
import { create } from 'zustand';
import { PRESETS, type PresetId } from '../../he/params.ts';
import { formatBytes } from '../../common/format-bytes.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import {
  createFederationKeys,
  decodeKeyBundle,
  encodeKeyBundle,
  type FederationKeys,
  loadFederationKeys,
  openFederationKeyFile,
  sealFederationKeyFile,
  storeFederationKeys,
} from '../lib/federation-keys.ts';

export const MAX_KEY_FILE_BYTES = 4 * 1024 * 1024;

interface Clinic {
  token: string;
  clinicId: string;
  federationId: string;
}

interface KeyState {
  federationId: string | null;
  /** The aggregation key (the federation's preset). */
  secretKey: Uint8Array | null;
  /** The inference key (inf-v1); null with a vault filled by a version before encrypted inference. */
  inferenceKey: Uint8Array | null;
  busy: string | null;
  error: string | null;
  restore(federationId: string): Promise<void>;
  createKey(clinic: Clinic, presetId: PresetId): Promise<void>;
  importKeyFile(federationId: string, file: File, passphrase: string): Promise<void>;
  exportKeyFile(passphrase: string): Promise<Blob | null>;
  /** The key bundle to wrap for a confirmed relay, or null (with the reason in `error`) when it cannot be sent. */
  relayBundle(requesterName: string): Uint8Array | null;
  /** Keeps keys received through a confirmed relay (already unwrapped). */
  adoptRelayedKeys(federationId: string, bundle: Uint8Array): Promise<void>;
}

const failure = (what: string, e: unknown) => `${what}: ${(e as Error).message}`;
const held = (federationId: string, keys: FederationKeys) => ({ federationId, secretKey: keys.aggregation, inferenceKey: keys.inference, busy: null });

export const useKeys = create<KeyState>()((set, get) => ({
  federationId: null,
  secretKey: null,
  inferenceKey: null,
  busy: null,
  error: null,
  async restore(federationId) {
    if (get().federationId === federationId && get().secretKey) return;
    try {
      const keys = await loadFederationKeys(federationId);
      set({ federationId, secretKey: keys?.aggregation ?? null, inferenceKey: keys?.inference ?? null });
    } catch (e) {
      set({ federationId, error: failure('The stored key could not be opened', e) });
    }
  },
  async createKey(clinic, presetId) {
    if (!(presetId in PRESETS)) {
      set({ error: `This federation uses an unknown parameter preset (${presetId}); update cipherpath.` });
      return;
    }
    set({ busy: 'Creating the federation keys…', error: null });
    try {
      const keys = await createFederationKeys(presetId, clinic.federationId);
      // Claim founding first: if another clinic founded meanwhile, these keys are discarded before they are ever used.
      await coordinatorApi.found(clinic.token, clinic.federationId);
      await storeFederationKeys(clinic.federationId, keys);
      set(held(clinic.federationId, keys));
    } catch (e) {
      set({ busy: null, error: failure('Could not create the key', e) });
    }
  },
  async importKeyFile(federationId, file, passphrase) {
    if (file.size > MAX_KEY_FILE_BYTES) {
      set({ error: `${file.name} is ${formatBytes(file.size)}; a key file is at most ${formatBytes(MAX_KEY_FILE_BYTES)}.` });
      return;
    }
    set({ busy: 'Opening the key file…', error: null });
    try {
      const keys = await openFederationKeyFile(new Uint8Array(await file.arrayBuffer()), passphrase, file.name);
      await storeFederationKeys(federationId, keys);
      set(held(federationId, keys));
    } catch (e) {
      set({ busy: null, error: failure(`Could not import ${file.name}`, e) });
    }
  },
  async exportKeyFile(passphrase) {
    const { secretKey, inferenceKey } = get();
    if (!secretKey) return null;
    if (!inferenceKey) {
      set({ error: 'This browser holds only the aggregation key (stored by an older version), so a key file would lack the inference key; import a current key file first.' });
      return null;
    }
    if (passphrase.length < 8) {
      set({ error: 'Choose a passphrase of at least 8 characters to protect the key file.' });
      return null;
    }
    set({ busy: 'Protecting the key file…', error: null });
    try {
      const file = await sealFederationKeyFile({ aggregation: secretKey, inference: inferenceKey }, passphrase);
      set({ busy: null });
      return new Blob([file as BlobPart], { type: 'application/octet-stream' });
    } catch (e) {
      set({ busy: null, error: failure('Could not export the key', e) });
      return null;
    }
  },
  relayBundle(requesterName) {
    const { secretKey, inferenceKey } = get();
    if (!secretKey) return null;
    if (!inferenceKey) {
      set({ error: `This browser holds only the aggregation key (stored by an older version); import a current key file before releasing the key to ${requesterName}.` });
      return null;
    }
    return encodeKeyBundle({ aggregation: secretKey, inference: inferenceKey });
  },
  async adoptRelayedKeys(federationId, bundle) {
    const keys = decodeKeyBundle(bundle, 'the key received from the key holder');
    await storeFederationKeys(federationId, keys);
    set(held(federationId, keys));
  },
}));
