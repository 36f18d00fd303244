// A labelled progress bar with the count and an ETA in words, for every long operation.
export function formatEta(ms: number): string {
  if (!(ms > 0)) return '';
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `about ${s} s left` : `about ${Math.ceil(s / 60)} min left`;
}

export function ProgressBar({ label, done, total, etaMs, testId }: { label: string; done: number; total: number; etaMs?: number; testId?: string }) {
  const eta = etaMs !== undefined && done < total ? formatEta(etaMs) : '';
  return (
    <div className="progress" data-testid={testId}>
      <progress max={Math.max(1, total)} value={done} aria-label={label}>
        {done}/{total}
      </progress>
      <span className="progress-text">
        {done} of {total}
        {eta ? ` — ${eta}` : ''}
      </span>
    </div>
  );
}
