// The whole-slide image open in this page: its properties as the reader found them, what the user entered where
// the file is silent (µm per pixel, objective power: asked, never guessed), and the tissue mask and tile grid for the
// current settings, recomputed in the first decode worker whenever a setting changes. The File stays in this
// browser: only the decode workers read it, a byte range at a time. Extraction at slide scale (stores/slide-extraction.ts)
// starts from `tiling.grid` and reads each tile with slidePool().gridTile at `settings.size`.
import { create } from 'zustand';
import type { SlideInfo } from '../../slide/slide.ts';
import { DEFAULT_TILING } from '../../slide/tiling.ts';
import type { TilingResult } from '../../slide/worker-host.ts';
import { currentModelChoice } from '../lib/model-choice.ts';
import { readModelInputSize } from '../lib/model-info.ts';
import { slidePool } from '../workers.ts';

export interface TilingSettings {
  /** saturation threshold 0..255; null: Otsu's */
  threshold: number | null;
  /** µm per pixel of the tiles the model sees */
  mpp: number;
  /** tile side in pixels at `mpp`; the model's input size unless the user changed it */
  size: number;
  /** smallest tissue fraction a tile must cover */
  minTissue: number;
}

interface SlideState {
  status: 'idle' | 'opening' | 'open' | 'failed';
  /** counts the slides opened in this page (views of an earlier one are dropped) */
  openId: number;
  name: string | null;
  info: SlideInfo | null;
  fingerprint: string | null;
  error: string | null;
  notice: string | null;
  mppEntered: number | null;
  objectivePowerEntered: number | null;
  /** where the default tile size came from */
  sizeSource: string | null;
  settings: TilingSettings;
  tiling: TilingResult | null;
  tilingBusy: boolean;
  tilingError: string | null;
  /** Opens `file` in the decode workers; `ignored` more slide files were given at once (one is opened at a time). */
  open(file: Blob, name: string, ignored?: number): Promise<void>;
  enterMpp(mpp: number): void;
  enterObjectivePower(power: number): void;
  updateSettings(patch: Partial<TilingSettings>): void;
}

/** µm per level-0 pixel: the file's, else the user's; null until one is known. */
export const effectiveMpp = (s: Pick<SlideState, 'info' | 'mppEntered'>): number | null => s.info?.mpp?.x ?? s.mppEntered;
export const effectiveObjectivePower = (s: Pick<SlideState, 'info' | 'objectivePowerEntered'>): number | null => s.info?.objectivePower ?? s.objectivePowerEntered;

const DEFAULT_SETTINGS: TilingSettings = { threshold: null, mpp: DEFAULT_TILING.mpp, size: DEFAULT_TILING.size, minTissue: DEFAULT_TILING.minTissue };

let opening = 0;
let tilingRun: AbortController | null = null;
let tilingTimer: ReturnType<typeof setTimeout> | undefined;

async function modelInputSize(): Promise<{ size: number; source: string }> {
  try {
    const choice = await currentModelChoice();
    const size = await readModelInputSize(choice);
    return { size, source: `the input size of the model chosen in Settings (${choice.kind === 'url' ? choice.url : choice.label})` };
  } catch (e) {
    return { size: DEFAULT_TILING.size, source: `the usual ViT input size: the chosen model's could not be read (${(e as Error).message})` };
  }
}

export const useSlide = create<SlideState>()((set, get) => {
  const runTiling = async (): Promise<void> => {
    const state = get();
    if (state.status !== 'open' || !state.info) return;
    tilingRun?.abort();
    const controller = new AbortController();
    tilingRun = controller;
    const mpp = effectiveMpp(state);
    const { threshold, size, minTissue } = state.settings;
    const tiling = mpp === null ? null : { mpp: state.settings.mpp, size, minTissue, ...(state.info.mpp ? {} : { mppOverride: mpp }) };
    set({ tilingBusy: true, tilingError: null });
    try {
      const result = await slidePool().tiling({ tissue: threshold === null ? {} : { threshold }, tiling }, controller.signal);
      if (tilingRun === controller) set({ tiling: result, tilingBusy: false });
    } catch (e) {
      if (!controller.signal.aborted) set({ tilingBusy: false, tilingError: `Tissue detection failed: ${(e as Error).message}` });
    }
  };
  const scheduleTiling = (delayMs: number): void => {
    clearTimeout(tilingTimer);
    tilingTimer = setTimeout(() => void runTiling(), delayMs);
  };

  return {
    status: 'idle',
    openId: 0,
    name: null,
    info: null,
    fingerprint: null,
    error: null,
    notice: null,
    mppEntered: null,
    objectivePowerEntered: null,
    sizeSource: null,
    settings: DEFAULT_SETTINGS,
    tiling: null,
    tilingBusy: false,
    tilingError: null,
    async open(file, name, ignored = 0) {
      const token = ++opening;
      tilingRun?.abort();
      clearTimeout(tilingTimer);
      const notice = ignored ? `${ignored + 1} slide files were given; one slide is opened at a time, so only ${name} was opened.` : null;
      set({ status: 'opening', openId: token, name, info: null, fingerprint: null, error: null, notice, mppEntered: null, objectivePowerEntered: null, tiling: null, tilingBusy: false, tilingError: null });
      try {
        const [info, model] = await Promise.all([slidePool().open(file, name), get().sizeSource ? null : modelInputSize()]);
        if (token !== opening) return;
        set((s) => ({ status: 'open', info, ...(model ? { sizeSource: model.source, settings: { ...s.settings, size: model.size } } : {}) }));
        slidePool()
          .fingerprint()
          .then(
            (fingerprint) => token === opening && set({ fingerprint }),
            () => undefined,
          );
        scheduleTiling(0);
      } catch (e) {
        if (token === opening) set({ status: 'failed', error: (e as Error).message });
      }
    },
    enterMpp(mpp) {
      set({ mppEntered: mpp });
      scheduleTiling(0);
    },
    enterObjectivePower(power) {
      set({ objectivePowerEntered: power });
    },
    updateSettings(patch) {
      set((s) => ({ settings: { ...s.settings, ...patch } }));
      scheduleTiling(200);
    },
  };
});
