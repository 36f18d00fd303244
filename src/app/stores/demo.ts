// State of the three-clinic demo run on the Demo page (the run itself is lib/demo.ts); its measured round and model
// are recorded in the results store, so they survive a reload and feed the Federation and Inference pages.
import { create } from 'zustand';
import { DEMO_STEPS, type DemoStepId, type DemoStepState, type DemoSummary, runDemo } from '../lib/demo.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';
import { useInference } from './inference.ts';
import { useResults } from './results.ts';

const idle = (): Record<DemoStepId, DemoStepState> => Object.fromEntries(DEMO_STEPS.map((s) => [s.id, { status: 'waiting', detail: '' }])) as Record<DemoStepId, DemoStepState>;

interface DemoState {
  running: boolean;
  steps: Record<DemoStepId, DemoStepState>;
  progress: { done: number; total: number; etaMs: number } | null;
  summary: DemoSummary | null;
  error: string | null;
  run(forcedBackend: BackendName | undefined): Promise<void>;
}

export const useDemo = create<DemoState>()((set, get) => ({
  running: false,
  steps: idle(),
  progress: null,
  summary: null,
  error: null,
  async run(forcedBackend) {
    if (get().running) return;
    set({ running: true, steps: idle(), progress: null, summary: null, error: null });
    try {
      const summary = await runDemo(forcedBackend, {
        step: (id, state) => set((s) => ({ steps: { ...s.steps, [id]: state } })),
        progress: (done, total, etaMs) => set({ progress: { done, total, etaMs } }),
      });
      useResults.getState().record(summary.result, summary.head);
      useInference.getState().rememberDemoAccess(summary.inferenceAccess);
      set({ running: false, summary });
    } catch (e) {
      const failed = DEMO_STEPS.find((s) => get().steps[s.id].status === 'running');
      if (failed) set((s) => ({ steps: { ...s.steps, [failed.id]: { status: 'waiting', detail: 'failed' } } }));
      set({ running: false, error: `The demo stopped${failed ? ` at “${failed.title}”` : ''}: ${(e as Error).message}. Press the button to try again.` });
    }
  },
}));
