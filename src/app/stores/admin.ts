// The admin surface's state (hospital IT): the admin token, federations, their rounds, freshly issued invite codes,
// the audit log with its hash chain checked in this browser and the job queue's dead letters. The admin token can create federations and read the
// audit log, so it is kept in sessionStorage only (gone when the tab closes), never in localStorage. Invite codes are
// shown once: they live in memory until the page is left.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { CreateFederationRequest, FederationView, JobsView, RoundView } from '../../protocol/api.ts';
import type { AuditEntry } from '../../protocol/api.ts';
import { adminApi, ApiError } from '../api/coordinator.ts';
import { type ChainCheck, verifyAuditChain } from '../lib/audit-chain.ts';
import { declaredRoundShape } from '../lib/round-shape.ts';
import { isAppStrategy } from '../lib/strategies.ts';

interface AdminState {
  token: string | null;
  federations: FederationView[];
  rounds: Record<string, RoundView[]>;
  issued: { federationId: string; codes: string[] } | null;
  audit: AuditEntry[];
  chain: ChainCheck | null;
  jobs: JobsView | null;
  busy: string | null;
  error: string | null;
  signIn(token: string): Promise<void>;
  signOut(): void;
  refresh(signal?: AbortSignal): Promise<void>;
  /** Creates a federation; an app strategy's round shape at `tokenWidth` is declared with it (lib/round-shape.ts). */
  createFederation(federation: CreateFederationRequest, tokenWidth: number): Promise<FederationView | null>;
  issueInvites(federationId: string, count: number): Promise<void>;
  loadRounds(federationId: string, signal?: AbortSignal): Promise<void>;
  /** Drops a collecting or aggregating round's uploads and lets it collect again (a stuck or poisoned round). */
  resetRound(federationId: string, round: number): Promise<void>;
}

/** A message that says what to do; 401 means the token itself is wrong. */
function explain(what: string, e: unknown): string {
  if (e instanceof ApiError && e.status === 401) {
    return `${what}: the coordinator refused the admin token (401: wrong admin token). Use the ADMIN_TOKEN the coordinator was started with, or the token it printed at its first start.`;
  }
  return `${what}: ${(e as Error).message}`;
}

export const useAdmin = create<AdminState>()(
  persist(
    (set, get) => ({
      token: null,
      federations: [],
      rounds: {},
      issued: null,
      audit: [],
      chain: null,
      jobs: null,
      busy: null,
      error: null,
      async signIn(token) {
        const trimmed = token.trim();
        if (!trimmed) {
          set({ error: 'Enter the admin token.' });
          return;
        }
        set({ busy: 'Checking the admin token…', error: null });
        try {
          const federations = await adminApi.federations(trimmed);
          set({ token: trimmed, federations, rounds: {}, issued: null, busy: null });
          await get().refresh();
        } catch (e) {
          set({ busy: null, error: explain('Could not sign in', e) });
        }
      },
      signOut() {
        set({ token: null, federations: [], rounds: {}, issued: null, audit: [], chain: null, jobs: null, error: null });
      },
      async refresh(signal) {
        const { token } = get();
        if (!token) return;
        try {
          const [federations, audit, jobs] = await Promise.all([adminApi.federations(token, signal), adminApi.audit(token, signal), adminApi.jobs(token, signal)]);
          set({ federations, audit, chain: verifyAuditChain(audit), jobs, error: null });
        } catch (e) {
          if (signal?.aborted) return;
          // A token that stopped working (coordinator restarted with another ADMIN_TOKEN) signs out.
          if (e instanceof ApiError && e.status === 401) set({ token: null });
          set({ error: explain('Could not read the coordinator', e) });
        }
      },
      async createFederation(federation, tokenWidth) {
        const { token } = get();
        if (!token) return null;
        set({ busy: `Creating ${federation.name}…`, error: null });
        try {
          const shape = isAppStrategy(federation.strategy) ? await declaredRoundShape(federation.strategy, federation.presetId, tokenWidth) : null;
          const created = await adminApi.createFederation(token, { ...federation, ...shape });
          set({ busy: null });
          await get().refresh();
          return created;
        } catch (e) {
          set({ busy: null, error: explain('Could not create the federation', e) });
          return null;
        }
      },
      async issueInvites(federationId, count) {
        const { token } = get();
        if (!token) return;
        set({ busy: `Issuing ${count} invite code(s)…`, error: null, issued: null });
        try {
          const { codes } = await adminApi.issueInvites(token, federationId, count);
          set({ busy: null, issued: { federationId, codes } });
          await get().refresh();
        } catch (e) {
          set({ busy: null, error: explain('Could not issue invite codes', e) });
        }
      },
      async loadRounds(federationId, signal) {
        const { token } = get();
        if (!token) return;
        try {
          const rounds = await adminApi.rounds(token, federationId, signal);
          set((s) => ({ rounds: { ...s.rounds, [federationId]: rounds } }));
        } catch (e) {
          if (!signal?.aborted) set({ error: explain(`Could not read the rounds of ${federationId}`, e) });
        }
      },
      async resetRound(federationId, round) {
        const { token } = get();
        if (!token) return;
        set({ busy: `Resetting round ${round}…`, error: null });
        try {
          await adminApi.resetRound(token, federationId, round);
          set({ busy: null });
          await Promise.all([get().loadRounds(federationId), get().refresh()]);
        } catch (e) {
          set({ busy: null, error: explain(`Could not reset round ${round}`, e) });
        }
      },
    }),
    {
      name: 'cipherpath-admin',
      storage: createJSONStorage(() => sessionStorage),
      partialize: (s) => ({ token: s.token }),
    },
  ),
);
