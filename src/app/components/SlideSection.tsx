// Opening a whole-slide image (Aperio SVS, pyramidal TIFF) and everything shown for it: what the file says, the
// viewer with its overlays, tissue detection and the tile grid. The file is read in place by the slide workers;
// nothing of it is uploaded. Files the reader does not read (NDPI, DICOM, JPEG 2000...) get its message.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { BackendName } from '../../protocol/vocabulary.ts';
import { SLIDE_ACCEPT } from '../lib/slide-files.ts';
import { canKeepFileHandles, fileFromHandle, lastResumableSlide, pickSlideHandle, rememberOpenedSlide, type ResumableSlide } from '../lib/slide-handles.ts';
import { maskLayer, type OverlayLayers } from '../lib/slide-overlays.ts';
import type { ReadTile } from '../lib/slide-tile-source.ts';
import { effectiveMpp, effectiveObjectivePower, useSlide } from '../stores/slide.ts';
import { slidePool } from '../workers.ts';
import { SlideDetails } from './SlideDetails.tsx';
import { SlideExtraction } from './SlideExtraction.tsx';
import { type OverlayControls, SlideTiling } from './SlideTiling.tsx';
import { SlideViewer } from './SlideViewer.tsx';

const readTile: ReadTile = (tile, signal) => slidePool().tile(tile, signal);

/** The handle of the slide last picked with File System Access, kept with the slide once its fingerprint is known. */
let pickedHandle: FileSystemFileHandle | undefined;

export function SlideSection({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const slide = useSlide();
  const inputRef = useRef<HTMLInputElement>(null);
  const [resumable, setResumable] = useState<ResumableSlide | null>(null);
  const [pickError, setPickError] = useState<string | null>(null);
  useEffect(() => {
    void lastResumableSlide().then(setResumable, () => undefined);
  }, []);
  const { fingerprint, name } = slide;
  useEffect(() => {
    if (!fingerprint || !name) return;
    const handle = pickedHandle?.name === name ? pickedHandle : undefined;
    void rememberOpenedSlide(fingerprint, name, handle).catch(() => undefined);
  }, [fingerprint, name]);
  const openFrom = async (handle: FileSystemFileHandle) => {
    setPickError(null);
    try {
      const file = await fileFromHandle(handle);
      pickedHandle = handle;
      await slide.open(file, file.name);
    } catch (e) {
      setPickError(`Could not open ${handle.name}: ${(e as Error).message}`);
    }
  };
  const pick = async () => {
    if (!canKeepFileHandles()) {
      inputRef.current?.click();
      return;
    }
    try {
      const handle = await pickSlideHandle();
      if (handle) await openFrom(handle);
    } catch (e) {
      setPickError((e as Error).message);
    }
  };
  const [controls, setControls] = useState<OverlayControls>({ showMask: true, showGrid: true, opacity: 0.7 });
  const mask = slide.tiling?.mask;
  const layer = useMemo(() => (mask ? maskLayer(mask) : null), [mask]);
  const tiles = slide.tiling?.grid?.tiles ?? null;
  const overlays: OverlayLayers = useMemo(() => ({ ...controls, mask: layer, tiles }), [controls, layer, tiles]);
  const mpp = effectiveMpp(slide);
  return (
    <>
      <p>
        Open an Aperio <code>.svs</code> or a pyramidal <code>.tif</code> from this computer: it is read in place, a few tiles at a time, and nothing of it leaves this browser (you can also drop it on
        the tile area below).
      </p>
      <div className="row">
        <button type="button" onClick={() => void pick()}>
          Open a slide file…
        </button>
        {resumable && slide.fingerprint !== resumable.fingerprint && resumable.handle ? (
          <button type="button" onClick={() => void openFrom(resumable.handle as FileSystemFileHandle)}>
            Reopen {resumable.name}
          </button>
        ) : null}
        {slide.status === 'opening' ? (
          <span className="busy" role="status">
            Opening {slide.name}…
          </span>
        ) : null}
      </div>
      <input
        ref={inputRef}
        className="visually-hidden"
        type="file"
        accept={SLIDE_ACCEPT}
        aria-label="Slide file"
        tabIndex={-1}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void slide.open(file, file.name);
          e.target.value = '';
        }}
      />
      {resumable && slide.fingerprint !== resumable.fingerprint ? (
        <p className="notice" data-testid="slide-resumable" data-stored={resumable.tokens}>
          {resumable.tokens.toLocaleString('en')} token(s) of {resumable.name} are stored in this browser.{' '}
          {resumable.handle ? 'Reopen it to continue its extraction (the browser asks to read it again).' : 'Pick the file again to continue its extraction: it is recognised by its fingerprint.'}
        </p>
      ) : null}
      {pickError ? (
        <p className="notice error" role="alert">
          {pickError}
        </p>
      ) : null}
      {slide.notice ? <p className="notice warn">{slide.notice}</p> : null}
      {slide.status === 'failed' && slide.error ? (
        <p className="notice error" role="alert" data-testid="slide-error">
          {slide.error}
        </p>
      ) : null}
      {slide.status === 'open' && slide.info ? (
        <div className="stack" key={slide.openId}>
          <SlideDetails
            info={slide.info}
            fingerprint={slide.fingerprint}
            mppEntered={slide.mppEntered}
            objectivePowerEntered={slide.objectivePowerEntered}
            onMpp={slide.enterMpp}
            onObjectivePower={slide.enterObjectivePower}
          />
          <div className="slide-workspace">
            <SlideViewer info={slide.info} readTile={readTile} mpp={mpp} objectivePower={effectiveObjectivePower(slide)} overlays={overlays} />
            <SlideTiling
            settings={slide.settings}
            sizeSource={slide.sizeSource}
            mppKnown={mpp !== null}
            tiling={slide.tiling}
            busy={slide.tilingBusy}
            error={slide.tilingError}
            overlays={controls}
            onSettings={slide.updateSettings}
            onOverlays={(patch) => setControls((c) => ({ ...c, ...patch }))}
            />
          </div>
          <SlideExtraction forcedBackend={forcedBackend} />
        </div>
      ) : null}
    </>
  );
}
