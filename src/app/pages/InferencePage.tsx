// Inference: classify chosen tiles with the federation's model. The encrypted path runs at the coordinator: tokens
// are encrypted here with the federation's inference key, the coordinator evaluates the published head on the
// ciphertexts, and only this browser decrypts the logits. The local plaintext check runs beside it on the same
// tokens, and the two must agree. A key holder publishes the model for encrypted inference on this page.
import { useEffect, useId, useMemo, useState } from 'react';
import type { InferenceMode } from '../../he/inference.ts';
import { FLOODING_STATEMENT } from '../../he/noise-flooding.ts';
import { formatPercent } from '../components/Charts.tsx';
import { ProgressBar } from '../components/Progress.tsx';
import { Busy, ColumnHeads, ErrorText, Section } from '../components/Section.tsx';
import { type HeadProtection, type InferenceAccess, NO_MODEL_MESSAGE } from '../lib/encrypted-inference.ts';
import { type BackendName, CLASS_NAMES } from '../../protocol/vocabulary.ts';
import { isClassLabel } from '../lib/labels.ts';
import { readChoiceParam } from '../lib/url-params.ts';
import { hrefFor, Link, navigate, useLocation } from '../router.tsx';
import { useInference } from '../stores/inference.ts';
import { headOf, useResults } from '../stores/results.ts';
import { useSession } from '../stores/session.ts';
import { useTiles } from '../stores/tiles.ts';

const className = (label: string) => (isClassLabel(label) ? CLASS_NAMES[label] : label);

function PublishSection({ access, head }: { access: InferenceAccess; head: ReturnType<typeof headOf> }) {
  const { publishing, publishError, publishNote, publish } = useInference();
  const [protection, setProtection] = useState<HeadProtection>('encrypted');
  const [mode, setMode] = useState<InferenceMode>('batched');
  const layoutId = useId();
  return (
    <Section step={2} title="Publish for encrypted inference">
      <p>
        A clinic holding the federation key makes evaluation keys from the inference key (they let the coordinator compute on ciphertexts, never decrypt them) and
        publishes the model. Encrypted, the coordinator holds only ciphertexts of the model too.
      </p>
      <fieldset className="row plain">
        <legend>Model at the coordinator</legend>
        <label className="choice">
          <input type="radio" name="protection" checked={protection === 'encrypted'} onChange={() => setProtection('encrypted')} />
          Encrypted (recommended)
        </label>
        <label className="choice">
          <input type="radio" name="protection" checked={protection === 'clear'} onChange={() => setProtection('clear')} />
          In clear (faster; the coordinator sees the weights: {FLOODING_STATEMENT})
        </label>
      </fieldset>
      <div className="row">
        <label htmlFor={layoutId}>Layout</label>
        <select id={layoutId} value={mode} onChange={(e) => setMode(e.target.value as InferenceMode)}>
          <option value="batched">Batched: many tiles per ciphertext (best for batches)</option>
          <option value="single">Single: one tile per ciphertext (best for one tile at a time)</option>
        </select>
      </div>
      <button type="button" disabled={publishing !== null} onClick={() => void publish(access, head, { protection, mode })}>
        Publish model for encrypted inference
      </button>
      <Busy text={publishing} />
      {publishNote ? (
        <p className="notice ok" data-testid="publish-note">
          {publishNote}
        </p>
      ) : null}
      <ErrorText text={publishError} />
    </Section>
  );
}

export function InferencePage({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const heads = useResults((s) => s.heads);
  const { tiles, tokens, extract, busy: extracting } = useTiles();
  const { token: sessionToken, federation, clinicName } = useSession();
  const { demoAccess, models, modelError, rows, progress, classifyError, summary, refreshModel, classify } = useInference();
  const { search } = useLocation();
  const modelParam = readChoiceParam(
    search,
    'model',
    heads.map((h) => h.federationId),
  );
  const stored = heads.find((h) => h.federationId === modelParam.value) ?? heads[heads.length - 1] ?? null;
  const head = useMemo(() => (stored ? headOf(stored) : null), [stored]);
  const access = useMemo((): InferenceAccess | null => {
    if (!stored) return null;
    if (sessionToken && federation?.id === stored.federationId) {
      return { federationId: stored.federationId, token: sessionToken, clinicName: clinicName ?? 'this clinic', keySlot: stored.federationId };
    }
    return demoAccess[stored.federationId] ?? null;
  }, [stored, sessionToken, federation, clinicName, demoAccess]);
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const modelId = useId();
  useEffect(() => {
    if (access) void refreshModel(access);
  }, [access, refreshModel]);
  const published = access ? models[access.federationId] : undefined;
  const ready = tiles.filter((t) => tokens[t.id]);
  const missing = tiles.length - ready.length;
  const running = progress !== null && progress.done < progress.total;
  const mismatches = rows.filter((r) => r.encrypted && r.encrypted.label !== r.local.label);
  const toggle = (id: string) =>
    setPicked((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const run = () => {
    if (!head) return;
    const chosen = ready.filter((t) => picked.has(t.id)).map((t) => ({ id: t.id, name: t.name, label: t.label, token: tokens[t.id] as Float32Array }));
    void classify(published === null ? null : access, head, chosen);
  };
  return (
    <div className="stack">
      <h1>Inference</h1>
      <Section step={1} title="Model">
        {modelParam.error ? (
          <p className="notice error" role="alert">
            {modelParam.error}
          </p>
        ) : null}
        {stored ? (
          <div className="row">
            <label htmlFor={modelId}>Model</label>
            <select id={modelId} value={stored.federationId} onChange={(e) => navigate(hrefFor('/inference', { model: e.target.value }), true)}>
              {heads.map((h) => (
                <option key={h.federationId} value={h.federationId}>
                  {h.federationName}, round {h.round} ({h.strategy}, {h.classes} classes × {h.dim})
                </option>
              ))}
            </select>
          </div>
        ) : (
          <p data-testid="no-model">
            No model in this browser yet. Take part in a round of a federation using the prototypes strategy on the <Link to="/federation">Federation</Link> page, or run
            the <Link to="/demo">three-clinic demo</Link>.
          </p>
        )}
        {stored ? (
          <p data-testid="encrypted-availability" className={published ? '' : 'notice warn'}>
            {!access
              ? 'This browser is not enrolled in the federation that made this model, so it cannot use that coordinator: only the local plaintext check runs. Join the federation on the Federation page.'
              : published === undefined
                ? 'Asking the coordinator for the published model…'
                : published
                  ? `The coordinator serves this federation's model for encrypted inference (${published.encrypted ? 'encrypted head' : 'head in clear'}, ${published.layout.mode} layout, ${published.layout.classes} classes × ${published.layout.dim}). Tiles are encrypted here with the federation's inference key, as ${access.clinicName}; only this browser can read the answers.`
                  : `Encrypted inference is not available yet: ${NO_MODEL_MESSAGE}. Until then only the local plaintext check runs.`}
          </p>
        ) : null}
        <ErrorText text={modelError} />
      </Section>
      {access && head ? <PublishSection access={access} head={head} /> : null}
      <Section step={3} title="Choose tiles">
        {missing > 0 ? (
          <div className="row">
            <span>{missing} tile(s) have no token yet.</span>
            <button type="button" className="secondary" disabled={extracting !== null} onClick={() => void extract(forcedBackend)}>
              Extract missing tokens
            </button>
          </div>
        ) : null}
        {ready.length ? (
          <>
            <div className="row">
              <button type="button" className="secondary" onClick={() => setPicked(new Set(ready.map((t) => t.id)))}>
                Select all {ready.length}
              </button>
              <button type="button" className="secondary" onClick={() => setPicked(new Set())}>
                Clear selection
              </button>
              <span data-testid="picked-count">{picked.size} selected</span>
            </div>
            <fieldset className="pick-list">
              <legend>Tiles with tokens</legend>
              {ready.map((t) => (
                <label key={t.id} className="pick">
                  <input type="checkbox" checked={picked.has(t.id)} onChange={() => toggle(t.id)} />
                  <img src={t.thumbUrl} alt="" width={40} height={40} />
                  {t.name}
                </label>
              ))}
            </fieldset>
          </>
        ) : (
          <p className="muted">
            No tiles with tokens. Add and extract tiles on the <Link to="/slides">Slides</Link> page.
          </p>
        )}
      </Section>
      <Section step={4} title="Classify">
        <button type="button" disabled={!stored || picked.size === 0 || running} onClick={run}>
          Classify {picked.size} selected tile(s)
        </button>
        {progress ? <ProgressBar label="Classification progress" done={progress.done} total={progress.total} /> : null}
        {summary ? (
          <p role="status" className={mismatches.length ? 'notice warn' : 'notice ok'} data-testid="inference-summary">
            {summary}
          </p>
        ) : null}
        {mismatches.length ? (
          <p role="alert" className="notice error" data-testid="inference-mismatch">
            Mismatch on {mismatches.map((r) => r.name).join(', ')}: the encrypted result differs from the local check. Do not rely on these results; ask a key holder to
            publish the model again from the current round, and check that this browser holds the current key.
          </p>
        ) : null}
        {rows.length ? (
          <table className="results" data-testid="inference-results">
            <caption>Predictions for the selected tiles</caption>
            <ColumnHeads columns={['Tile', 'Label', 'Encrypted at the coordinator', 'Local plaintext check', 'Agree']} />
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.name}</th>
                  <td>{r.label ? className(r.label) : '—'}</td>
                  <td data-testid="encrypted-prediction">
                    {r.encrypted ? `${CLASS_NAMES[r.encrypted.label]} (${formatPercent(r.encrypted.confidence)})` : published && running ? 'waiting…' : 'not run'}
                  </td>
                  <td data-testid="local-prediction">
                    {CLASS_NAMES[r.local.label]} ({formatPercent(r.local.confidence)})
                  </td>
                  <td data-testid="agreement">
                    {r.encrypted ? (r.encrypted.label === r.local.label ? `yes (logits within ${(r.logitDifference ?? NaN).toExponential(0)})` : 'NO') : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <ErrorText text={classifyError} />
      </Section>
    </div>
  );
}
