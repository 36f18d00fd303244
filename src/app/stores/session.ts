// The clinic's enrolment at the coordinator: bearer token and federation, persisted so a reload keeps the session.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { FederationView } from '../../protocol/api.ts';
import { coordinatorApi } from '../api/coordinator.ts';
import { loadOrCreateIdentity } from '../lib/keyvault.ts';

interface SessionState {
  token: string | null;
  clinicId: string | null;
  clinicName: string | null;
  federation: FederationView | null;
  /** The federation's quorum when this clinic enrolled: round results holding fewer clinics are refused. */
  pinnedQuorum: number | null;
  holdsKey: boolean;
  keyHolders: number;
  busy: boolean;
  error: string | null;
  enrol(inviteCode: string, clinicName: string): Promise<void>;
  refresh(): Promise<void>;
  leave(): void;
}

export const useSession = create<SessionState>()(
  persist(
    (set, get) => ({
      token: null,
      clinicId: null,
      clinicName: null,
      federation: null,
      pinnedQuorum: null,
      holdsKey: false,
      keyHolders: 0,
      busy: false,
      error: null,
      async enrol(inviteCode, clinicName) {
        set({ busy: true, error: null });
        try {
          const enrolled = await coordinatorApi.enrol(inviteCode.trim().toUpperCase(), clinicName.trim());
          // The key-relay identity is created at enrolment, so approvals never wait on it later.
          const identity = await loadOrCreateIdentity(enrolled.clinicId);
          await coordinatorApi.setPublicKey(enrolled.token, identity.publicKeyRaw);
          const me = await coordinatorApi.me(enrolled.token);
          set({
            token: enrolled.token,
            clinicId: me.clinicId,
            clinicName: me.clinicName,
            federation: me.federation,
            pinnedQuorum: me.federation.minClinics,
            holdsKey: me.holdsKey,
            keyHolders: me.keyHolders,
            busy: false,
          });
        } catch (e) {
          set({ busy: false, error: `Could not join: ${(e as Error).message}` });
        }
      },
      async refresh() {
        const { token } = get();
        if (!token) return;
        try {
          const me = await coordinatorApi.me(token);
          set({ federation: me.federation, holdsKey: me.holdsKey, keyHolders: me.keyHolders, error: null });
        } catch (e) {
          set({ error: `Could not reach the federation: ${(e as Error).message}` });
        }
      },
      leave() {
        set({ token: null, clinicId: null, clinicName: null, federation: null, pinnedQuorum: null, holdsKey: false, keyHolders: 0, error: null });
      },
    }),
    {
      name: 'cipherpath-session',
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ token: s.token, clinicId: s.clinicId, clinicName: s.clinicName, federation: s.federation, pinnedQuorum: s.pinnedQuorum }),
    },
  ),
);
