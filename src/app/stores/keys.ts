// The federation secret keys of this clinic (aggregation + inference, see lib/federation-keys.ts): created here
// (founder), received through the coordinator wrapped for this clinic alone (after a key holder approves and both
// compare the safety code), or imported from a passphrase-protected key file. They live in the encrypted key vault
// and in HE worker requests; never on the wire in clear.
import { create } from 'zustand';
import { unwrapSecretKey, wrapSecretKey } from '../../custody/keywrap.ts';
import { safetyCode } from '../../custody/safety-code.ts';
import { PRESETS, type PresetId } from '../../he/params.ts';
import { fromBase64 } from '../../common/base64.ts';
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
import { loadOrCreateIdentity } from '../lib/keyvault.ts';

export const MAX_KEY_FILE_BYTES = 4 * 1024 * 1024;

export interface RelayRequest {
  requesterId: string;
  requesterName: string;
  status: 'pending' | 'wrapped';
  safetyCode: string | null;
  requesterPublicKey: string | null;
  holderId: string | null;
  holderPublicKey: string | null;
}

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
  requests: RelayRequest[];
  busy: string | null;
  error: string | null;
  restore(federationId: string): Promise<void>;
  createKey(clinic: Clinic, presetId: PresetId): Promise<void>;
  importKeyFile(federationId: string, file: File, passphrase: string): Promise<void>;
  exportKeyFile(passphrase: string): Promise<Blob | null>;
  requestKey(clinic: Clinic): Promise<void>;
  pollRequests(clinic: Clinic, signal?: AbortSignal): Promise<void>;
  approve(clinic: Clinic, request: RelayRequest): Promise<void>;
  accept(clinic: Clinic, request: RelayRequest): Promise<void>;
}

const failure = (what: string, e: unknown) => `${what}: ${(e as Error).message}`;
const held = (federationId: string, keys: FederationKeys) => ({ federationId, secretKey: keys.aggregation, inferenceKey: keys.inference, busy: null });

export const useKeys = create<KeyState>()((set, get) => ({
  federationId: null,
  secretKey: null,
  inferenceKey: null,
  requests: [],
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
  async requestKey(clinic) {
    set({ busy: 'Asking the key holders…', error: null });
    try {
      await coordinatorApi.requestKey(clinic.token, clinic.federationId);
      set({ busy: null });
      await get().pollRequests(clinic);
    } catch (e) {
      set({ busy: null, error: failure('Could not request the key', e) });
    }
  },
  async pollRequests(clinic, signal) {
    try {
      const identity = await loadOrCreateIdentity(clinic.clinicId);
      const views = await coordinatorApi.keyRequests(clinic.token, clinic.federationId, signal);
      const requests = await Promise.all(
        views.map(async (v): Promise<RelayRequest> => {
          let code: string | null = null;
          if (v.requesterId === clinic.clinicId && v.holderPublicKey) code = await safetyCode(fromBase64(v.holderPublicKey), identity.publicKeyRaw);
          if (v.requesterId !== clinic.clinicId && v.requesterPublicKey) code = await safetyCode(identity.publicKeyRaw, fromBase64(v.requesterPublicKey));
          return { ...v, safetyCode: code };
        }),
      );
      set({ requests });
    } catch (e) {
      if (!signal?.aborted) set({ error: failure('Could not read key requests', e) });
    }
  },
  async approve(clinic, request) {
    const { secretKey, inferenceKey } = get();
    if (!secretKey || !request.requesterPublicKey) return;
    if (!inferenceKey) {
      set({ error: `This browser holds only the aggregation key (stored by an older version); import a current key file before approving ${request.requesterName}.` });
      return;
    }
    set({ busy: `Wrapping the key for ${request.requesterName}…`, error: null });
    try {
      const identity = await loadOrCreateIdentity(clinic.clinicId);
      const wrapped = await wrapSecretKey(encodeKeyBundle({ aggregation: secretKey, inference: inferenceKey }), identity.privateKey, fromBase64(request.requesterPublicKey), {
        federationId: clinic.federationId,
        holderClinicId: clinic.clinicId,
        requesterClinicId: request.requesterId,
      });
      await coordinatorApi.deliverWrappedKey(clinic.token, clinic.federationId, request.requesterId, wrapped);
      set({ busy: null });
      await get().pollRequests(clinic);
    } catch (e) {
      set({ busy: null, error: failure('Could not approve', e) });
    }
  },
  async accept(clinic, request) {
    if (!request.holderId || !request.holderPublicKey) return;
    set({ busy: 'Receiving the federation key…', error: null });
    try {
      const identity = await loadOrCreateIdentity(clinic.clinicId);
      const wrapped = await coordinatorApi.wrappedKey(clinic.token, clinic.federationId, clinic.clinicId);
      const bundle = await unwrapSecretKey(wrapped, identity.privateKey, fromBase64(request.holderPublicKey), {
        federationId: clinic.federationId,
        holderClinicId: request.holderId,
        requesterClinicId: clinic.clinicId,
      });
      const keys = decodeKeyBundle(bundle, 'the key received from the key holder');
      await storeFederationKeys(clinic.federationId, keys);
      await coordinatorApi.confirmKeyHolder(clinic.token, clinic.federationId);
      set(held(clinic.federationId, keys));
    } catch (e) {
      set({ busy: null, error: failure('Could not receive the key', e) });
    }
  },
}));
