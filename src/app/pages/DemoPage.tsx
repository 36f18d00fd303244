// Demo day: one button runs three simulated clinics through a whole federation over the real coordinator, each step
// visible with one line of plain language, then shows the measured results.
import { formatMs } from '../components/Charts.tsx';
import { ProgressBar } from '../components/Progress.tsx';
import { RoundCharts } from '../components/RoundCharts.tsx';
import { ErrorText, Section } from '../components/Section.tsx';
import { DEMO_STEPS, type DemoSummary } from '../lib/demo.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';
import { Link } from '../router.tsx';
import { useDemo } from '../stores/demo.ts';
import { useInference } from '../stores/inference.ts';
import { useResults } from '../stores/results.ts';

const STATUS_MARK = { waiting: '○', running: '◔', done: '✓', skipped: '–' } as const;
const STATUS_WORD = { waiting: 'not started', running: 'running', done: 'done', skipped: 'skipped' } as const;

export function DemoPage({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const { running, steps, progress, summary, error, run } = useDemo();
  const record = useResults((s) => s.record);
  const rememberDemoAccess = useInference((s) => s.rememberDemoAccess);
  const onDone = (done: DemoSummary) => {
    record(done.result, done.head);
    rememberDemoAccess(done.inferenceAccess);
  };
  return (
    <div className="stack">
      <h1>Three-clinic demo</h1>
      <Section step={1} title="What happens">
        <p>
          Three hospitals want a better classifier for lung tissue, but none may share patient images. This demo plays all three clinics in this page, talking to the
          real coordinator, with the bundled sample tiles. Every step below really runs; nothing is replayed.
        </p>
        <button type="button" className="big" disabled={running} onClick={() => void run(forcedBackend, onDone)}>
          Run three-clinic demo
        </button>
      </Section>
      <Section step={2} title="Steps">
        <ol className="demo-steps" aria-live="polite">
          {DEMO_STEPS.map((s) => {
            const state = steps[s.id];
            return (
              <li key={s.id} className={`demo-step ${state.status}`} data-testid={`demo-step-${s.id}`} data-status={state.status}>
                <span className="mark" aria-hidden="true">
                  {STATUS_MARK[state.status]}
                </span>
                <div>
                  <strong>{s.title}</strong> <span className="visually-hidden">({STATUS_WORD[state.status]})</span>
                  {state.ms !== undefined ? <span className="muted small"> · {formatMs(state.ms)}</span> : null}
                  <p className="explain">{s.explain}</p>
                  {state.detail ? <p className="detail">{state.detail}</p> : null}
                  {s.id === 'extract' && state.status === 'running' && progress ? <ProgressBar label="Demo extraction progress" done={progress.done} total={progress.total} etaMs={progress.etaMs} /> : null}
                </div>
              </li>
            );
          })}
        </ol>
        <ErrorText text={error} />
        {summary ? (
          <p role="status" className="notice ok" data-testid="demo-status">
            Demo complete in {summary.seconds.toFixed(1)} s: three clinics built one model from {summary.tiles} tiles without sharing an image or an unencrypted feature.
            Accuracy {(summary.accuracyEncrypted * 100).toFixed(1)}% encrypted vs {(summary.accuracyUnencrypted * 100).toFixed(1)}% unencrypted; the models agree on{' '}
            {(summary.agreement * 100).toFixed(0)}% of tiles. Encrypted inference at the coordinator agreed with the plaintext check on {summary.inference.agree} of{' '}
            {summary.inference.total} of clinic B's tiles.
          </p>
        ) : null}
      </Section>
      {summary ? (
        <Section step={3} title="Measured results">
          <RoundCharts rounds={[summary.result]} />
          <p>
            The model is saved in this browser: classify more tiles with it, encrypted, on the <Link to="/inference">Inference</Link> page (as clinic B), or compare
            runs on the <Link to="/federation">Federation</Link> page.
          </p>
        </Section>
      ) : null}
    </div>
  );
}
