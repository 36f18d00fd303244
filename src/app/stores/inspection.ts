// Test-only view of the stores: when a test sets `window.__cipherpathInspect = true` before the app starts
// (Playwright's addInitScript), every zustand store is exposed as `window.__cipherpathStores`, so an e2e can read what
// the stores hold (e2e/app-key-handles.spec.ts: no secret-key bytes, only handles and fingerprints). Without the flag
// nothing is exposed.
import { useAdmin } from './admin.ts';
import { useDemo } from './demo.ts';
import { useInference } from './inference.ts';
import { useKeys } from './keys.ts';
import { useRelay } from './relay.ts';
import { useResults } from './results.ts';
import { useRound } from './round.ts';
import { useSession } from './session.ts';
import { useTileScores } from './tile-scores.ts';
import { useTiles } from './tiles.ts';

interface InspectableWindow {
  __cipherpathInspect?: unknown;
  __cipherpathStores?: Record<string, { getState(): unknown }>;
}

export function exposeStoresForTests(): void {
  const w = globalThis as InspectableWindow;
  if (w.__cipherpathInspect !== true) return;
  w.__cipherpathStores = { admin: useAdmin, demo: useDemo, inference: useInference, keys: useKeys, relay: useRelay, results: useResults, round: useRound, session: useSession, tileScores: useTileScores, tiles: useTiles };
}
