// State of the three-clinic demo run on the Demo page (the run itself is lib/demo.ts). `run` hands the summary to
// `onDone`, which the page uses to record the round and model in the results store (so they survive a reload and
// feed the Federation and Inference pages): stores never reach into each other.
import { create } from 'zustand';
import { DEMO_STEPS, type DemoStepId, type DemoStepState, type DemoSummary, runDemo } from '../lib/demo.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';

const idle = (): Record<DemoStepId, DemoStepState> => Object.fromEntries(DEMO_STEPS.map((s) => [s.id, { status: 'waiting', detail: '' }])) as Record<DemoStepId, DemoStepState>;

interface DemoState {
  running: boolean;
  steps: Record<DemoStepId, DemoStepState>;
  progress: { done: number; total: number; etaMs: number } | null;
  summary: DemoSummary | null;
  error: string | null;
  run(forcedBackend: BackendName | undefined, onDone: (summary: DemoSummary) => void): Promise<void>;
}

export const useDemo = create<DemoState>()((set, get) => ({
  running: false,
  steps: idle(),
  progress: null,
  summary: null,
  error: null,
  async run(forcedBackend, onDone) {
    if (get().running) return;
    set({ running: true, steps: idle(), progress: null, summary: null, error: null });
    try {
      const summary = await runDemo(forcedBackend, {
        step: (id, state) => set((s) => ({ steps: { ...s.steps, [id]: state } })),
        progress: (done, total, etaMs) => set({ progress: { done, total, etaMs } }),
      });
      onDone(summary);
      set({ running: false, summary });
    } catch (e) {
      const failed = DEMO_STEPS.find((s) => get().steps[s.id].status === 'running');
      if (failed) set((s) => ({ steps: { ...s.steps, [failed.id]: { status: 'waiting', detail: 'failed' } } }));
      set({ running: false, error: `The demo stopped${failed ? ` at “${failed.title}”` : ''}: ${(e as Error).message}. Press the button to try again.` });
    }
  },
}));
