// Extraction of the open slide's grid tiles: the Extract button with the tile count, then a progress bar with the
// ETA and Pause/Resume/Cancel, and the number of tokens this browser holds for the slide (what a reload keeps).
import type { BackendName } from '../../protocol/vocabulary.ts';
import { useSlide } from '../stores/slide.ts';
import { useSlideExtraction } from '../stores/slide-extraction.ts';
import { ProgressBar } from './Progress.tsx';

export function SlideExtraction({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const grid = useSlide((s) => s.tiling?.grid ?? null);
  const fingerprint = useSlide((s) => s.fingerprint);
  const x = useSlideExtraction();
  const active = x.status === 'running' || x.status === 'pausing' || x.status === 'paused';
  const count = grid?.tiles.length ?? 0;
  return (
    <div className="stack" data-testid="slide-extraction" data-status={x.status}>
      <div className="row">
        <button type="button" disabled={!grid || !fingerprint || count === 0 || active} onClick={() => void x.start(forcedBackend)}>
          Extract {count.toLocaleString('en')} tile(s)
        </button>
        {x.status === 'running' ? (
          <button type="button" onClick={x.pause}>
            Pause
          </button>
        ) : null}
        {x.status === 'pausing' || x.status === 'paused' ? (
          <button type="button" onClick={x.resume}>
            Resume
          </button>
        ) : null}
        {active ? (
          <button type="button" onClick={x.cancel}>
            Cancel
          </button>
        ) : null}
      </div>
      {x.progress ? (
        <>
          <ProgressBar label="Slide extraction" done={x.progress.done} total={x.progress.total} etaMs={x.status === 'running' ? x.progress.etaMs : undefined} testId="slide-extraction-progress" />
          <p data-testid="slide-extraction-figures" data-done={x.progress.done} data-total={x.progress.total} data-reused={x.progress.reused} data-computed={x.progress.computed} data-batches={x.progress.batches} data-backend={x.backend ?? ''}>
            {x.progress.reused.toLocaleString('en')} token(s) reused from this browser, {x.progress.computed.toLocaleString('en')} computed in {x.progress.batches} batch(es)
            {x.status === 'pausing' ? ' — pausing after the batch in flight' : ''}
            {x.status === 'paused' ? ' — paused' : ''}
            {x.status === 'cancelled' ? ' — cancelled' : ''}
            {x.status === 'done' && x.backend ? ` on ${x.backend}` : ''}.
          </p>
        </>
      ) : null}
      {x.error ? (
        <p className="notice error" role="alert">
          {x.error}
        </p>
      ) : null}
      {x.stored !== null ? (
        <p data-testid="slide-tokens-stored" data-stored={x.stored}>
          {x.stored.toLocaleString('en')} token(s) stored in this browser for this slide (tokens and tile positions only, never pixels).
        </p>
      ) : null}
    </div>
  );
}
