// The federation secret keys of this clinic (aggregation + inference, see lib/federation-keys.ts): created here
// (founder), received through the key relay (stores/relay.ts: wrapped for this clinic alone after both people
// confirmed the relay code), or imported from a passphrase-protected key file. Their bytes live in the HE worker's
// key slots and, encrypted, in the key vault; never in this store, on this page or on the wire in clear. The store
// holds each key's worker handle and fingerprint.
import { create } from 'zustand';
import type { SealUnder } from '../../custody/keywrap.ts';
import type { KeyInfo } from '../../he/key-slots.ts';
import { PRESETS, type PresetId } from '../../he/params.ts';
import { formatBytes } from '../../common/format-bytes.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import {
  createFederationKeys,
  dropKeys,
  type FederationKeys,
  loadFederationKeys,
  openFederationKeyFile,
  relaySealer,
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
  /** The aggregation key (the federation's preset): its HE worker handle and fingerprint. */
  aggregation: KeyInfo | null;
  /** The inference key (inf-v1); null with a vault filled by a version before encrypted inference. */
  inference: KeyInfo | null;
  busy: string | null;
  error: string | null;
  restore(federationId: string): Promise<void>;
  createKey(clinic: Clinic, presetId: PresetId): Promise<void>;
  importKeyFile(federationId: string, file: File, passphrase: string): Promise<void>;
  exportKeyFile(passphrase: string): Promise<Blob | null>;
  /** Seals the key bundle for a confirmed relay in the HE worker, or null (with the reason in `error`) when it cannot be sent. */
  relaySealer(requesterName: string): SealUnder | null;
  /** Keeps keys received through a confirmed relay (opened into the HE worker). */
  adoptRelayedKeys(federationId: string, keys: FederationKeys): Promise<void>;
}

const failure = (what: string, e: unknown) => `${what}: ${(e as Error).message}`;
/** Federations being restored (one vault read however often the page asks). */
const restoring = new Map<string, Promise<void>>();

export const useKeys = create<KeyState>()((set, get) => {
  /** Shows `next` (with `also`) and zero-fills the worker slots of the keys it replaces. */
  const hold = (federationId: string, next: { aggregation: KeyInfo | null; inference: KeyInfo | null }, also: Partial<KeyState> = { busy: null }) => {
    const { aggregation, inference } = get();
    set({ ...also, federationId, aggregation: next.aggregation, inference: next.inference });
    const kept = new Set([next.aggregation?.handle, next.inference?.handle]);
    void dropKeys([aggregation, inference].filter((k) => k && !kept.has(k.handle)));
  };
  return {
    federationId: null,
    aggregation: null,
    inference: null,
    busy: null,
    error: null,
    restore(federationId) {
      if (get().federationId === federationId && get().aggregation) return Promise.resolve();
      const pending = restoring.get(federationId);
      if (pending) return pending;
      const work = (async () => {
        try {
          const keys = await loadFederationKeys(federationId);
          // Keys created or received while the vault was read are newer than an empty vault.
          if (!keys && get().federationId === federationId && get().aggregation) return;
          hold(federationId, { aggregation: keys?.aggregation ?? null, inference: keys?.inference ?? null }, {});
        } catch (e) {
          set({ federationId, error: failure('The stored key could not be opened', e) });
        } finally {
          restoring.delete(federationId);
        }
      })();
      restoring.set(federationId, work);
      return work;
    },
    async createKey(clinic, presetId) {
      if (!(presetId in PRESETS)) {
        set({ error: `This federation uses an unknown parameter preset (${presetId}); update cipherpath.` });
        return;
      }
      set({ busy: 'Creating the federation keys…', error: null });
      let keys: FederationKeys | undefined;
      try {
        keys = await createFederationKeys(presetId, clinic.federationId);
        // Claim founding first: if another clinic founded meanwhile, these keys are discarded before they are ever used.
        await coordinatorApi.found(clinic.token, clinic.federationId);
        await storeFederationKeys(clinic.federationId, keys);
        hold(clinic.federationId, keys);
      } catch (e) {
        if (keys) void dropKeys([keys.aggregation, keys.inference]);
        set({ busy: null, error: failure('Could not create the key', e) });
      }
    },
    async importKeyFile(federationId, file, passphrase) {
      if (file.size > MAX_KEY_FILE_BYTES) {
        set({ error: `${file.name} is ${formatBytes(file.size)}; a key file is at most ${formatBytes(MAX_KEY_FILE_BYTES)}.` });
        return;
      }
      set({ busy: 'Opening the key file…', error: null });
      let keys: FederationKeys | undefined;
      try {
        keys = await openFederationKeyFile(new Uint8Array(await file.arrayBuffer()), passphrase, file.name);
        await storeFederationKeys(federationId, keys);
        hold(federationId, keys);
      } catch (e) {
        if (keys) void dropKeys([keys.aggregation, keys.inference]);
        set({ busy: null, error: failure(`Could not import ${file.name}`, e) });
      }
    },
    async exportKeyFile(passphrase) {
      const { aggregation, inference } = get();
      if (!aggregation) return null;
      if (!inference) {
        set({ error: 'This browser holds only the aggregation key (stored by an older version), so a key file would lack the inference key; import a current key file first.' });
        return null;
      }
      if (passphrase.length < 8) {
        set({ error: 'Choose a passphrase of at least 8 characters to protect the key file.' });
        return null;
      }
      set({ busy: 'Protecting the key file…', error: null });
      try {
        const file = await sealFederationKeyFile({ aggregation, inference }, passphrase);
        set({ busy: null });
        return new Blob([file as BlobPart], { type: 'application/octet-stream' });
      } catch (e) {
        set({ busy: null, error: failure('Could not export the key', e) });
        return null;
      }
    },
    relaySealer(requesterName) {
      const { aggregation, inference } = get();
      if (!aggregation) return null;
      if (!inference) {
        set({ error: `This browser holds only the aggregation key (stored by an older version); import a current key file before releasing the key to ${requesterName}.` });
        return null;
      }
      return relaySealer({ aggregation, inference });
    },
    async adoptRelayedKeys(federationId, keys) {
      await storeFederationKeys(federationId, keys);
      hold(federationId, keys);
    },
  };
});
