// The open slide's extraction: progress, pause/resume/cancel, and how many tokens this browser holds for the slide
// (counted again whenever the slide changes, so a reload shows what a resumed run will reuse). The run itself is
// lib/slide-extraction.ts; the slide, its grid and the tile size come from stores/slide.ts.
import { create } from 'zustand';
import type { BackendName } from '../../protocol/vocabulary.ts';
import { countSlideTokens } from '../lib/slide-db.ts';
import { extractSlide, type SlideExtractionProgress } from '../lib/slide-extraction.ts';
import { useSlide } from './slide.ts';

/** 'pausing': Pause was pressed and the batch in flight is finishing; 'paused': nothing is being embedded */
type Status = 'idle' | 'running' | 'pausing' | 'paused' | 'done' | 'cancelled' | 'failed';

interface SlideExtractionState {
  status: Status;
  progress: SlideExtractionProgress | null;
  /** tokens stored in this browser for the open slide (any model); null while unknown */
  stored: number | null;
  backend: BackendName | null;
  error: string | null;
  start(forcedBackend: BackendName | undefined): Promise<void>;
  pause(): void;
  resume(): void;
  cancel(): void;
  /** Recounts the stored tokens of the open slide. */
  refresh(): Promise<void>;
}

interface Run {
  controller: AbortController;
  /** set while paused: resolves `paused` */
  resume: (() => void) | null;
  paused: Promise<void> | null;
}

let run: Run | null = null;

export const useSlideExtraction = create<SlideExtractionState>()((set, get) => ({
  status: 'idle',
  progress: null,
  stored: null,
  backend: null,
  error: null,
  async start(forcedBackend) {
    const { fingerprint, tiling, settings } = useSlide.getState();
    const grid = tiling?.grid;
    if (!fingerprint || !grid || run) return;
    const current: Run = { controller: new AbortController(), resume: null, paused: null };
    run = current;
    set({ status: 'running', error: null, progress: null });
    try {
      const result = await extractSlide({
        fingerprint,
        tiles: grid.tiles,
        size: settings.size,
        forcedBackend,
        signal: current.controller.signal,
        whenRunning: () => {
          if (!current.paused) return Promise.resolve();
          set({ status: 'paused' });
          return current.paused;
        },
        onProgress: (progress) => set({ progress }),
      });
      set({ status: 'done', progress: result.progress, backend: result.backend });
    } catch (e) {
      if (current.controller.signal.aborted) set({ status: 'cancelled' });
      else set({ status: 'failed', error: `Extraction failed: ${(e as Error).message}` });
    } finally {
      if (run === current) run = null;
      await get().refresh();
    }
  },
  pause() {
    if (!run || run.paused) return;
    const current = run;
    current.paused = new Promise((resolve) => {
      current.resume = resolve;
    });
    set({ status: 'pausing' });
  },
  resume() {
    if (!run?.resume) return;
    run.resume();
    run.paused = null;
    run.resume = null;
    set({ status: 'running' });
  },
  cancel() {
    if (!run) return;
    run.controller.abort();
    run.resume?.(); // a paused run wakes up to see the abort
  },
  async refresh() {
    const { fingerprint } = useSlide.getState();
    const stored = fingerprint ? await countSlideTokens(fingerprint).catch(() => null) : null;
    if (useSlide.getState().fingerprint === fingerprint) set({ stored });
  },
}));

// a different slide (or none): forget the last run's figures and count what is stored for this one
useSlide.subscribe((state, previous) => {
  if (state.fingerprint === previous.fingerprint) return;
  run?.controller.abort();
  run?.resume?.();
  useSlideExtraction.setState({ status: 'idle', progress: null, error: null, stored: null });
  void useSlideExtraction.getState().refresh();
});
