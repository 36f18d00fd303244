// Admin page, rounds of the selected federation: status, who submitted (never what), what aggregation set aside and
// why, the declared upload shape, and a reset for a stuck or poisoned round behind a second confirmation.
import { useEffect, useState } from 'react';
import type { FederationView, RoundView } from '../../protocol/api.ts';
import { useAdmin } from '../stores/admin.ts';
import { ColumnHeads, Section } from './Section.tsx';

const STATUS_TEXT: Record<RoundView['status'], string> = { collecting: 'collecting uploads', aggregating: 'adding the ciphertexts', closed: 'closed', failed: 'failed (too few usable uploads; the next round is open)' };

function shapeText(spec: RoundView['spec']): string {
  return spec.ciphertextCount !== null && spec.scaleBits !== null
    ? `Declared upload shape: ${spec.ciphertextCount} ciphertext(s) per upload at CKKS scale 2^${spec.scaleBits} (${spec.presetId}); any other shape is refused at upload.`
    : `No declared upload shape (${spec.presetId}): aggregation keeps the largest group of uploads that can be added together and sets the others aside.`;
}

/** Reset asks once more: it drops the round's uploads, and every clinic must upload again. */
function ResetRound({ federationId, round }: { federationId: string; round: RoundView }) {
  const resetRound = useAdmin((s) => s.resetRound);
  const busy = useAdmin((s) => s.busy);
  const [confirming, setConfirming] = useState(false);
  if (round.status !== 'collecting' && round.status !== 'aggregating') return null;
  return confirming ? (
    <span className="row">
      <button type="button" onClick={() => void resetRound(federationId, round.round).then(() => setConfirming(false))} disabled={busy !== null}>
        Drop {round.submitted.length} upload(s) and collect round {round.round} again
      </button>
      <button type="button" className="secondary" onClick={() => setConfirming(false)}>
        Keep round {round.round}
      </button>
    </span>
  ) : (
    <button type="button" className="secondary" onClick={() => setConfirming(true)}>
      Reset round {round.round}
    </button>
  );
}

export function RoundsSection({ federation }: { federation: FederationView }) {
  const rounds = useAdmin((s) => s.rounds[federation.id]);
  const loadRounds = useAdmin((s) => s.loadRounds);
  useEffect(() => {
    const controller = new AbortController();
    const tick = () => void loadRounds(federation.id, controller.signal);
    tick();
    const timer = setInterval(tick, 3000);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [federation.id, loadRounds]);
  return (
    <Section step={5} title={`Rounds of ${federation.name}`}>
      {!rounds ? (
        <p className="busy">Loading rounds…</p>
      ) : (
        <>
          <p data-testid="round-shape">{rounds.length ? shapeText((rounds[rounds.length - 1] as RoundView).spec) : null}</p>
        <table className="results" data-testid="rounds">
          <caption>Rounds, newest first (who submitted, never what)</caption>
          <ColumnHeads columns={['Round', 'Status', 'Deadline', 'Submitted', 'Enrolled', 'Set aside', 'Action']} />
          <tbody>
            {[...rounds].reverse().map((r) => (
              <tr key={r.round}>
                <th scope="row">{r.round}</th>
                <td>{STATUS_TEXT[r.status]}</td>
                <td>
                  <time dateTime={r.deadlineAt}>{new Date(r.deadlineAt).toLocaleString()}</time>
                </td>
                <td>
                  {r.submitted.length} of {r.quorum} needed{r.submitted.length ? `: ${r.submitted.join(', ')}` : ''}
                </td>
                <td>{r.enrolled}</td>
                <td data-testid="round-set-aside">
                  {r.quarantined.length ? `quarantined: ${r.quarantined.join(', ')}` : '—'}
                  {r.failure ? ` (${r.failure})` : ''}
                </td>
                <td>
                  <ResetRound federationId={federation.id} round={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </>
      )}
    </Section>
  );
}
