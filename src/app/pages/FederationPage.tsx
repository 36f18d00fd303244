// The clinic's path through one federation round: join, hold the key, extract tokens, upload ciphertexts,
// decrypt the aggregate. Each step says what it does in one line of plain language.
import { type FormEvent, useCallback, useEffect, useId, useMemo, useState } from 'react';
import { formatBytes } from '../../common/format-bytes.ts';
import type { PresetId } from '../../he/params.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';
import type { FederationView, RoundView } from '../../protocol/api.ts';
import { ExtractionPanel } from '../components/Extraction.tsx';
import { FederationKeySection } from '../components/FederationKey.tsx';
import { RoundCharts, SimulationCharts } from '../components/RoundCharts.tsx';
import { Busy, ErrorText, Section } from '../components/Section.tsx';
import { LOCAL_EPOCHS, ROUND_TRAITS } from '../../fl/strategies/live-traits.ts';
import { APP_STRATEGIES, STRATEGY_LABELS } from '../lib/strategies.ts';
import { readIntParam } from '../lib/url-params.ts';
import { Link, useLocation } from '../router.tsx';
import { useKeys } from '../stores/keys.ts';
import { parseSimulation, useResults } from '../stores/results.ts';
import { type Participation, type RoundOutcome, useRound } from '../stores/round.ts';
import { useSession } from '../stores/session.ts';
import { orderedTokens, useTiles } from '../stores/tiles.ts';

/** Cap on an imported simulation results file (npm run simulate -- --out), so a wrong file cannot fill memory. */
const MAX_RESULTS_FILE_BYTES = 16 * 1024 * 1024;

function JoinSection() {
  const { federation, clinicName, busy, error, enrol, leave: leaveSession } = useSession();
  const resetRound = useRound((s) => s.reset);
  const leave = () => {
    resetRound();
    leaveSession();
  };
  const [invite, setInvite] = useState('');
  const [name, setName] = useState('');
  const inviteId = useId();
  const nameId = useId();
  if (federation) {
    return (
      <Section step={1} title="Federation">
        <p>
          Joined <strong>{federation.name}</strong> as <strong data-testid="clinic-name">{clinicName}</strong> (round {federation.currentRound}, quorum{' '}
          {federation.minClinics} clinics, strategy <strong>{federation.strategy}</strong>).
        </p>
        <button type="button" className="secondary" onClick={leave}>
          Leave this federation on this browser
        </button>
        <ErrorText text={error} />
      </Section>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void enrol(invite, name);
  };
  return (
    <Section step={1} title="Join a federation">
      <p>Enter the one-time invite code your federation lead gave you.</p>
      <form onSubmit={submit} className="row">
        <label htmlFor={inviteId}>Invite code</label>
        <input id={inviteId} value={invite} onChange={(e) => setInvite(e.target.value)} placeholder="ABCD-EFGH-JKLM" autoComplete="off" required />
        <label htmlFor={nameId}>Clinic name</label>
        <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} maxLength={80} required />
        <button type="submit" disabled={busy}>
          Join federation
        </button>
      </form>
      <ErrorText text={error} />
    </Section>
  );
}

function TilesSection({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const { tiles, busy, loadSampleSet } = useTiles();
  const [sampleSet, setSampleSet] = useState(1);
  const setId = useId();
  return (
    <Section step={3} title="Tiles and [CLS] tokens">
      <p>
        A Vision Transformer turns each tile into a feature vector, here in this browser. Pixels never leave it. Manage your tiles on the <Link to="/slides">Slides</Link> page.
      </p>
      <div className="row">
        <label htmlFor={setId}>Sample set</label>
        <select id={setId} value={sampleSet} onChange={(e) => setSampleSet(Number(e.target.value))}>
          {[1, 2, 3, 4, 5, 6].map((k) => (
            <option key={k} value={k}>
              Set {k}
            </option>
          ))}
        </select>
        <button type="button" disabled={busy !== null} onClick={() => void loadSampleSet(sampleSet)}>
          Load sample tiles
        </button>
      </div>
      <p data-testid="tile-count">{tiles.length} tile(s) loaded</p>
      <ExtractionPanel forcedBackend={forcedBackend} showRaw />
    </Section>
  );
}

function useNow(periodMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}

function countdown(deadlineAt: string, now: number): string {
  const left = Date.parse(deadlineAt) - now;
  if (!(left > 0)) return 'deadline passed (closes as soon as the quorum has submitted)';
  const s = Math.floor(left / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `deadline in ${h ? `${h} h ` : ''}${m} min ${s % 60} s`;
}

const STATUS_WORDS: Record<RoundView['status'], string> = { collecting: 'open, collecting uploads', aggregating: 'adding the ciphertexts', closed: 'closed', failed: 'failed (too few usable uploads; the next round is open)' };

function TimelineSection({ token, federation, focus }: { token: string; federation: FederationView; focus: number | undefined }) {
  const { timeline, followTimeline } = useRound();
  const now = useNow(1000);
  // The current round through the federation's one poller (the round status and a participation join it too).
  useEffect(() => {
    const controller = new AbortController();
    void followTimeline(token, federation.id, federation.currentRound, controller.signal);
    return () => controller.abort();
  }, [token, federation.id, federation.currentRound, followTimeline]);
  return (
    <Section step={5} title="Round timeline">
      <p>Each round opens, collects one encrypted upload per clinic, is added up at the coordinator and closes. Only who submitted is shown, never what.</p>
      <ol className="timeline" data-testid="timeline">
        {timeline.map((r) => (
          <li key={r.round} className={`round-${r.status}${focus === r.round ? ' focus' : ''}`} aria-current={focus === r.round ? 'step' : undefined}>
            <strong>Round {r.round}</strong>: {STATUS_WORDS[r.status]}
            {r.status === 'collecting' ? ` · ${countdown(r.deadlineAt, now)}` : ''} · {r.submitted.length} of {r.quorum} needed submitted ({r.enrolled} enrolled)
            {r.submitted.length ? `: ${r.submitted.join(', ')}` : ''}
          </li>
        ))}
      </ol>
    </Section>
  );
}

/** Local training's round (strategies that train locally); the test ids keep fedavg-head's name, its first such strategy. */
function TrainingSummary({ participation }: { participation: Participation }) {
  const f = participation.training;
  if (!f) return null;
  return (
    <p data-testid="fedavg-summary">
      Round {participation.round}: local training ({f.epochs} epoch(s) on {f.trainCount} tile(s), {f.validationTileIds.length} held out
      {f.backend ? `, on ${f.backend}` : ''}) started from{' '}
      {f.startedFrom ? (
        <>
          the global head of round {f.startedFrom.round} (checksum <code data-testid="fedavg-start-checksum">{f.startedFrom.checksum}</code>)
        </>
      ) : (
        'the zero head'
      )}
      .
      {f.globalChecksum ? (
        <>
          {' '}
          Global head after round {participation.round}: checksum <code data-testid="fedavg-global-checksum">{f.globalChecksum}</code> (the same at every clinic).
        </>
      ) : null}
    </p>
  );
}

function RoundSection({ token, clinicId, federation, forcedBackend }: { token: string; clinicId: string; federation: FederationView; forcedBackend: BackendName | undefined }) {
  const [epochs, setEpochs] = useState<number>(LOCAL_EPOCHS.default);
  const epochsId = useId();
  const federationId = federation.id;
  const presetId = federation.presetId as PresetId;
  const aggregationKey = useKeys((s) => s.aggregation?.handle ?? null);
  const { tiles, tokens: tokenMap } = useTiles();
  const tokens = orderedTokens(tiles, tokenMap);
  const { view, upload, participation, decryptedSum, step, busy, error, watch, participate, decryptAggregate, participateRound, resume } = useRound();
  const record = useResults((s) => s.record);
  const extract = useTiles((s) => s.extract);
  const pinnedQuorum = useSession((s) => s.pinnedQuorum) ?? federation.minClinics;
  const access = useMemo(() => (aggregationKey ? { token, clinicId, federationId, presetId, pinnedQuorum, aggregationKey } : null), [token, clinicId, federationId, presetId, pinnedQuorum, aggregationKey]);
  const mine = upload?.federationId === federationId ? upload : null;
  const shownRound = mine?.round ?? federation.currentRound;
  // The round's one poller (the participation's wait joins it).
  useEffect(() => {
    if (!access) return;
    const controller = new AbortController();
    void watch(access, shownRound, controller.signal);
    return () => controller.abort();
  }, [access, shownRound, watch]);
  const snapshot = useCallback(() => {
    const { tiles: t, tokens: k, modelSha256 } = useTiles.getState();
    return { tiles: t, tokens: k, modelSha256 };
  }, []);
  const finish = useCallback((outcome: RoundOutcome | null) => outcome && record(outcome.result, outcome.head), [record]);
  // A participation interrupted by a reload carries on: wait for the round to close, then decrypt.
  useEffect(() => {
    if (access && participation?.phase === 'uploaded' && participation.federationId === federationId) void resume(access, snapshot).then(finish);
  }, [access, participation, federationId, resume, snapshot, finish]);
  const tileAccess = {
    current: snapshot,
    async ensureTokens() {
      const current = snapshot();
      if (!orderedTokens(current.tiles, current.tokens)) await extract(forcedBackend);
      return snapshot();
    },
  };
  const canUpload = aggregationKey !== null && tokens !== null && busy === null;
  const strategy = APP_STRATEGIES.find((s) => s === federation.strategy);
  const supported = strategy !== undefined;
  const traits = strategy ? ROUND_TRAITS[strategy] : null;
  const epochsValid = Number.isInteger(epochs) && epochs >= 1 && epochs <= LOCAL_EPOCHS.max;
  const waiting = participation?.phase === 'uploaded' && participation.federationId === federationId;
  const participatedHere = participation?.federationId === federationId && participation.round === federation.currentRound;
  return (
    <Section step={4} title={`Round ${shownRound}`}>
      <p>Tokens are encrypted here with CKKS; the coordinator adds ciphertexts without being able to read them.</p>
      <p data-testid="round-status" aria-live="polite">
        Status: {view ? `${view.status} — ${view.submitted.length}/${view.quorum} clinics submitted` : 'loading…'}
        {view && view.submitted.length > 0 ? ` (${view.submitted.join(', ')})` : ''}
      </p>
      {traits?.trainsLocally ? (
        <div className="row">
          <label htmlFor={epochsId}>Local epochs</label>
          <input id={epochsId} type="number" min={1} max={LOCAL_EPOCHS.max} step={1} value={epochs} onChange={(e) => setEpochs(e.target.valueAsNumber)} className="narrow" />
          <span className="muted small">Passes over your training tiles per round (src/fl trainHead: softmax regression with L2, seeded).</span>
        </div>
      ) : null}
      <div className="row">
        <button
          type="button"
          disabled={!aggregationKey || busy !== null || waiting || participatedHere || !supported || !epochsValid}
          onClick={() => access && void participateRound(access, federation, tileAccess, { epochs }).then(finish)}
        >
          Participate in round {federation.currentRound}
        </button>
        <span className="muted small">
          {!aggregationKey
            ? 'Needs the federation key (step 2).'
            : strategy
              ? STRATEGY_LABELS[strategy].participate
              : `This app cannot run the "${federation.strategy}" strategy yet.`}
        </span>
      </div>
      {step ? (
        <p className="busy" role="status" data-testid="participation-step">
          {step}
        </p>
      ) : null}
      {participation?.federationId === federationId && participation.phase === 'done' ? (
        <p data-testid="participation-done">
          Round {participation.round} is done:{' '}
          {ROUND_TRAITS[participation.strategy].trainsLocally
            ? 'the new global head was decrypted and saved for the next round and the Inference page.'
            : ROUND_TRAITS[participation.strategy].learnsHead
              ? 'the shared model was decrypted and saved for the Inference page.'
              : 'the sum was decrypted.'}
        </p>
      ) : null}
      {participation?.federationId === federationId ? <TrainingSummary participation={participation} /> : null}
      <div className="row">
          <span className="muted small">Or step by step:</span>
          <button type="button" className="secondary" disabled={!canUpload} onClick={() => access && tokens && void participate({ access, round: shownRound, tokens })}>
            Encrypt and upload
          </button>
          <button
            type="button"
            className="secondary"
            disabled={view?.status !== 'closed' || !aggregationKey || !tokens || busy !== null}
            onClick={() => access && tokens && void decryptAggregate({ access, round: shownRound, tokenCount: tokens.length, dim: tokens[0]?.length ?? 0 })}
          >
            Download and decrypt the sum
          </button>
      </div>
      {mine ? (
        <p data-testid="upload-summary">
          Uploaded {mine.ciphertexts} ciphertext(s), {formatBytes(mine.bytes)}, to round {mine.round}
          {mine.duplicate ? ' (already received earlier)' : ''}.
        </p>
      ) : null}
      {decryptedSum ? (
        <>
          <p data-testid="sum-summary">
            Decrypted the sum of all clinics' tokens: {decryptedSum.length} vector(s); first values {Array.from(decryptedSum[0]?.slice(0, 3) ?? [], (v) => v.toFixed(4)).join(', ')}
          </p>
          <details>
            <summary>Raw decrypted values</summary>
            <textarea readOnly aria-label="Decrypted sum (JSON)" rows={4} value={JSON.stringify(decryptedSum.map((t) => Array.from(t)))} />
          </details>
        </>
      ) : null}
      <Busy text={busy} />
      <ErrorText text={error} />
    </Section>
  );
}

function ChartsSection({ federationId }: { federationId: string | null }) {
  const { rounds, simulation, setSimulation } = useResults();
  const runs = [...new Set(rounds.map((r) => r.federationId))];
  const [chosen, setChosen] = useState<string | null>(null);
  const [simError, setSimError] = useState<string | null>(null);
  const selectId = useId();
  const fileId = useId();
  const shown = chosen ?? (federationId && runs.includes(federationId) ? federationId : (runs[runs.length - 1] ?? null));
  const shownRounds = rounds.filter((r) => r.federationId === shown);
  const loadSimulation = async (file: File | undefined) => {
    if (!file) return;
    try {
      if (file.size > MAX_RESULTS_FILE_BYTES) throw new Error(`${file.name} is ${formatBytes(file.size)}; simulation results are capped at ${formatBytes(MAX_RESULTS_FILE_BYTES)}`);
      setSimulation({ source: file.name, doc: parseSimulation(await file.text(), file.name) });
      setSimError(null);
    } catch (e) {
      setSimError((e as Error).message);
    }
  };
  return (
    <Section step={6} title="Results">
      <p>Measured in this browser for each round it took part in (or ran in the demo). Nothing is estimated.</p>
      {runs.length ? (
        <>
          <div className="row">
            <label htmlFor={selectId}>Federation</label>
            <select id={selectId} value={shown ?? ''} onChange={(e) => setChosen(e.target.value)}>
              {runs.map((id) => (
                <option key={id} value={id}>
                  {rounds.find((r) => r.federationId === id)?.federationName} ({id})
                </option>
              ))}
            </select>
          </div>
          <RoundCharts rounds={shownRounds} />
        </>
      ) : (
        <p className="muted" data-testid="no-results">
          No rounds measured yet. Press “Participate” above, or run the <Link to="/demo">three-clinic demo</Link>.
        </p>
      )}
      <h3>Simulation (src/fl)</h3>
      <p>
        Compare strategies and domains on synthetic data: run <code>npm run simulate -- --strategy all --domain all --json &gt; simulation.json</code> and load the file here.
      </p>
      <div className="row">
        <label htmlFor={fileId}>Simulation results (JSON)</label>
        <input id={fileId} type="file" accept=".json,application/json" onChange={(e) => void loadSimulation(e.target.files?.[0])} />
        {simulation ? (
          <button type="button" className="secondary" onClick={() => setSimulation(null)}>
            Forget loaded results
          </button>
        ) : null}
      </div>
      <ErrorText text={simError} />
      {simulation ? <SimulationCharts doc={simulation.doc} source={simulation.source} /> : null}
    </Section>
  );
}

export function FederationPage({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const { token, clinicId, federation, refresh } = useSession();
  const { search } = useLocation();
  const focus = readIntParam(search, 'round', 9_999_999);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return (
    <div className="stack">
      <h1>Federation</h1>
      {focus.error ? (
        <p className="notice error" role="alert">
          {focus.error}
        </p>
      ) : null}
      <JoinSection />
      {token && federation && clinicId ? <FederationKeySection token={token} clinicId={clinicId} federationId={federation.id} presetId={federation.presetId as PresetId} /> : null}
      <TilesSection forcedBackend={forcedBackend} />
      {token && federation && clinicId ? <RoundSection token={token} clinicId={clinicId} federation={federation} forcedBackend={forcedBackend} /> : null}
      {token && federation ? <TimelineSection token={token} federation={federation} focus={focus.value} /> : null}
      <ChartsSection federationId={federation?.id ?? null} />
    </div>
  );
}
