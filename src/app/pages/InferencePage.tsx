// Inference: classify chosen tiles with the federation's model. The encrypted path (tokens encrypted here, the
// coordinator evaluates the head on ciphertexts, the result is decrypted here) runs when the coordinator offers it;
// the local plaintext check runs beside it on the same tokens, and the two must agree.
import { useEffect, useId, useState } from 'react';
import { formatPercent } from '../components/Charts.tsx';
import { ProgressBar } from '../components/Progress.tsx';
import { ErrorText, Section } from '../components/Section.tsx';
import { type Prediction, predict } from '../lib/federated-head.ts';
import { CLASS_NAMES, isClassLabel } from '../lib/labels.ts';
import { readChoiceParam, type BackendName } from '../lib/url-params.ts';
import { hrefFor, Link, navigate, useLocation } from '../router.tsx';
import { headOf, useResults } from '../stores/results.ts';
import { useTiles } from '../stores/tiles.ts';

interface Row {
  id: string;
  name: string;
  label: string | null;
  local: Prediction;
}

/** Whether the coordinator's API description lists an encrypted-inference route for federations. */
async function inferenceRoute(): Promise<string | null> {
  const r = await fetch('/api/openapi.json');
  if (!r.ok) throw new Error(`the coordinator's API description answered ${r.status}`);
  const doc = (await r.json()) as { paths?: Record<string, unknown> };
  return Object.keys(doc.paths ?? {}).find((p) => /\/federations\/[^/]+\/inference$/.test(p)) ?? null;
}

const BATCH = 16;

export function InferencePage({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const heads = useResults((s) => s.heads);
  const { tiles, tokens, extract, busy: extracting } = useTiles();
  const { search } = useLocation();
  const modelParam = readChoiceParam(
    search,
    'model',
    heads.map((h) => h.federationId),
  );
  const stored = heads.find((h) => h.federationId === modelParam.value) ?? heads[heads.length - 1] ?? null;
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const [rows, setRows] = useState<Row[]>([]);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [route, setRoute] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const modelId = useId();
  useEffect(() => {
    inferenceRoute().then(setRoute, (e: unknown) => {
      setRoute(null);
      setError(`Could not ask the coordinator what it offers: ${(e as Error).message}`);
    });
  }, []);
  const ready = tiles.filter((t) => tokens[t.id]);
  const missing = tiles.length - ready.length;
  const toggle = (id: string) =>
    setPicked((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const run = async () => {
    if (!stored) return;
    const head = headOf(stored);
    const chosen = ready.filter((t) => picked.has(t.id));
    setRows([]);
    setError(null);
    setProgress({ done: 0, total: chosen.length });
    try {
      for (let at = 0; at < chosen.length; at += BATCH) {
        const batch = chosen.slice(at, at + BATCH);
        const out = batch.map((t) => ({ id: t.id, name: t.name, label: t.label, local: predict(head, tokens[t.id] as Float32Array) }));
        setRows((r) => [...r, ...out]);
        setProgress({ done: Math.min(chosen.length, at + BATCH), total: chosen.length });
        await new Promise((r) => setTimeout(r, 0)); // let the progress bar paint between batches
      }
    } catch (e) {
      setError(`Classification failed: ${(e as Error).message}. Check that the tiles were extracted with the model this federation was trained on.`);
    }
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
        <p data-testid="encrypted-availability" className={route ? '' : 'notice warn'}>
          {route === undefined
            ? 'Asking the coordinator whether it offers encrypted inference…'
            : route
              ? `The coordinator offers encrypted inference (${route}), but this version of the app does not call it yet (it needs the federation's inference key and published model), so only the local plaintext check runs. Results are computed in this browser and never leave it.`
              : 'This coordinator does not offer encrypted inference yet (its API has no /api/federations/{id}/inference route), so only the local plaintext check runs. Results below are computed in this browser and never leave it.'}
        </p>
      </Section>
      <Section step={2} title="Choose tiles">
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
      <Section step={3} title="Classify">
        <button type="button" disabled={!stored || picked.size === 0 || (progress !== null && progress.done < progress.total)} onClick={() => void run()}>
          Classify {picked.size} selected tile(s)
        </button>
        {progress ? <ProgressBar label="Classification progress" done={progress.done} total={progress.total} /> : null}
        {rows.length ? (
          <table className="results" data-testid="inference-results">
            <caption>Predictions for the selected tiles</caption>
            <thead>
              <tr>
                <th scope="col">Tile</th>
                <th scope="col">Label</th>
                <th scope="col">Encrypted at the coordinator</th>
                <th scope="col">Local plaintext check</th>
                <th scope="col">Agree</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.name}</th>
                  <td>{isClassLabel(r.label) ? CLASS_NAMES[r.label] : '—'}</td>
                  <td className="muted">not run by this app version</td>
                  <td data-testid="local-prediction">
                    {CLASS_NAMES[r.local.label]} ({formatPercent(r.local.confidence)})
                  </td>
                  <td>—</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <ErrorText text={error} />
      </Section>
    </div>
  );
}
