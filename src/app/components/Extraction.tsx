// Extraction controls shared by the Slides and Federation pages: start, cancel, progress with ETA, the backend in
// use and why faster ones were skipped, and a resume prompt after a reload interrupted an extraction.
import type { BackendName } from '../../protocol/vocabulary.ts';
import { orderedTokens, useTiles } from '../stores/tiles.ts';
import { ProgressBar } from './Progress.tsx';
import { Busy, ErrorText } from './Section.tsx';

export function BackendBadge() {
  const backend = useTiles((s) => s.backend);
  if (!backend) return null;
  return (
    <p className="badge" data-testid="backend">
      ViT backend: <strong data-testid="backend-name">{backend.backend}</strong>
      {backend.skipped.length > 0 ? ` (skipped: ${backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})` : null}
    </p>
  );
}

export function ExtractionPanel({ forcedBackend, showRaw = false }: { forcedBackend: BackendName | undefined; showRaw?: boolean }) {
  const { tiles, tokens, progress, busy, error, interrupted, extract, cancel } = useTiles();
  const ready = orderedTokens(tiles, tokens);
  const withTokens = tiles.filter((t) => tokens[t.id]).length;
  const running = busy !== null && progress !== null;
  return (
    <>
      {interrupted && !running ? (
        <div className="notice warn" role="status" data-testid="extraction-interrupted">
          The page was reloaded during an extraction: {withTokens} of {tiles.length} tiles already have tokens and are kept. Press “Extract [CLS] tokens” to finish the
          other {tiles.length - withTokens}.
        </div>
      ) : null}
      <div className="row">
        <button type="button" disabled={tiles.length === 0 || busy !== null} onClick={() => void extract(forcedBackend)}>
          Extract [CLS] tokens
        </button>
        {running ? (
          <button type="button" className="secondary" onClick={cancel}>
            Cancel
          </button>
        ) : null}
        <span data-testid="token-progress-text" className="muted">
          {withTokens} of {tiles.length} tile(s) have tokens
        </span>
      </div>
      <BackendBadge />
      {progress && (running || progress.done < progress.total) ? <ProgressBar label="Extraction progress" done={progress.done} total={progress.total} etaMs={progress.etaMs} testId="extraction-progress" /> : null}
      {progress && !running && progress.reused > 0 ? <p className="muted small">{progress.reused} token(s) came from this browser's cache instead of being recomputed.</p> : null}
      {ready ? (
        <>
          <p data-testid="token-summary">
            {ready.length} token(s) of {ready[0]?.length ?? 0} dimensions
          </p>
          {showRaw ? (
            <details>
              <summary>Raw token values</summary>
              <textarea readOnly aria-label="Token values (JSON)" rows={4} value={JSON.stringify(ready.map((t) => Array.from(t)))} />
            </details>
          ) : null}
        </>
      ) : null}
      <Busy text={busy} />
      <ErrorText text={error} />
    </>
  );
}
