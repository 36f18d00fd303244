// The admin surface for hospital IT: sign in with the coordinator's admin token, create federations, issue invite
// codes (shown once), follow rounds, read the audit log, whose hash chain this browser verifies itself, and see the
// background jobs that failed every attempt.
import { type FormEvent, useEffect, useId, useState } from 'react';
import type { FederationView } from '../../protocol/api.ts';
import { AGGREGATION_PRESET_IDS, type AggregationPresetId } from '../../protocol/vocabulary.ts';
import { JobsSection } from '../components/AdminJobs.tsx';
import { RoundsSection } from '../components/AdminRounds.tsx';
import { Busy, ColumnHeads, ErrorText, Section } from '../components/Section.tsx';
import { BUNDLED_TOKEN_WIDTH } from '../lib/model-choice.ts';
import { ROUND_TRAITS } from '../../fl/strategies/live-traits.ts';
import { APP_STRATEGIES, type AppStrategy, STRATEGY_LABELS } from '../lib/strategies.ts';
import { CATALOGUE, catalogueTokenWidth } from '../../vit/catalogue.ts';
import { useAdmin } from '../stores/admin.ts';

const PRESET_LABELS: Readonly<Record<AggregationPresetId, string>> = {
  'agg-v1': 'agg-v1 (one ≤ 64 KiB ciphertext per upload)',
  'agg-wide-v1': 'agg-wide-v1 (twice the bytes, exact for very large federations)',
};

function roundLength(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function TokenSection() {
  const { token, busy, signIn, signOut } = useAdmin();
  const [typed, setTyped] = useState('');
  const tokenId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void signIn(typed).then(() => setTyped(''));
  };
  return (
    <Section step={1} title="Sign in">
      {token ? (
        <div className="row">
          <p data-testid="admin-signed-in">Signed in. The admin token is kept in this tab only (sessionStorage) and is forgotten when the tab closes.</p>
          <button type="button" className="secondary" onClick={signOut}>
            Forget the admin token
          </button>
        </div>
      ) : (
        <form onSubmit={submit}>
          <p>The token comes from the coordinator's <code>ADMIN_TOKEN</code> setting, or was printed once at its first start.</p>
          <div className="row">
            <label htmlFor={tokenId}>Admin token</label>
            <input id={tokenId} type="password" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" required />
            <button type="submit" disabled={busy !== null}>
              Sign in
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}

function FederationsSection({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const federations = useAdmin((s) => s.federations);
  return (
    <Section step={2} title="Federations">
      {federations.length === 0 ? (
        <p className="muted">No federation yet: create one below.</p>
      ) : (
        <table className="results" data-testid="federations">
          <caption>Federations on this coordinator</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Preset</th>
              <th scope="col">Strategy</th>
              <th scope="col">Quorum</th>
              <th scope="col">Round length</th>
              <th scope="col">Current round</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {federations.map((f) => (
              <tr key={f.id} aria-current={f.id === selected ? 'true' : undefined}>
                <th scope="row">{f.name}</th>
                <td>
                  <code>{f.id}</code>
                </td>
                <td>{f.presetId}</td>
                <td>{f.strategy}</td>
                <td>{f.minClinics} clinics</td>
                <td>{roundLength(f.roundSeconds)}</td>
                <td>{f.currentRound}</td>
                <td>
                  <button type="button" className="secondary" onClick={() => onSelect(f.id)} aria-pressed={f.id === selected}>
                    Manage {f.name}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

/** Which aggregation preset fits `clinics` clinics at src/he's default round bounds (aggregationPresetFor). */
function usePresetAdvice(clinics: number): AggregationPresetId | null {
  const [advice, setAdvice] = useState<AggregationPresetId | null>(null);
  useEffect(() => {
    let live = true;
    if (!Number.isInteger(clinics) || clinics < 1) {
      setAdvice(null);
      return;
    }
    // src/he pulls node-seal's glue in: loaded only here, on demand.
    void import('../../he/aggregate.ts').then(({ aggregationPresetFor }) => {
      if (live) setAdvice(aggregationPresetFor({ clinicCount: clinics }));
    });
    return () => {
      live = false;
    };
  }, [clinics]);
  return advice;
}

/** Token widths a federation can be declared for: the bundled model's and the catalogue's that a browser can run. */
const TOKEN_WIDTHS: readonly { width: number; models: string }[] = [
  { width: BUNDLED_TOKEN_WIDTH, models: 'the bundled demo model' },
  ...[...new Set(CATALOGUE.filter((m) => !m.unsupported).map(catalogueTokenWidth))]
    .sort((a, b) => a - b)
    .map((width) => ({ width, models: CATALOGUE.filter((m) => !m.unsupported && catalogueTokenWidth(m) === width).map((m) => m.name).join(', ') })),
];

function CreateSection({ onCreated }: { onCreated: (f: FederationView) => void }) {
  const createFederation = useAdmin((s) => s.createFederation);
  const busy = useAdmin((s) => s.busy);
  const [name, setName] = useState('');
  const [strategy, setStrategy] = useState<AppStrategy>('fedavg-head');
  const [quorum, setQuorum] = useState(3);
  const [roundSeconds, setRoundSeconds] = useState(3600);
  const [expected, setExpected] = useState(3);
  const [preset, setPreset] = useState<AggregationPresetId>('agg-v1');
  const [tokenWidth, setTokenWidth] = useState(BUNDLED_TOKEN_WIDTH);
  const advice = usePresetAdvice(expected);
  const ids = { name: useId(), strategy: useId(), quorum: useId(), seconds: useId(), expected: useId(), preset: useId(), hint: useId(), width: useId(), widthHint: useId() };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void createFederation({ name: name.trim(), strategy, minClinics: quorum, roundSeconds, presetId: preset }, tokenWidth).then((created) => {
      if (created) {
        setName('');
        onCreated(created);
      }
    });
  };
  return (
    <Section step={3} title="Create a federation">
      <form onSubmit={submit} className="stack">
        <div className="row">
          <label htmlFor={ids.name}>Federation name</label>
          <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} maxLength={80} required />
        </div>
        <div className="row">
          <label htmlFor={ids.strategy}>Strategy</label>
          <select id={ids.strategy} value={strategy} onChange={(e) => setStrategy(e.target.value as AppStrategy)}>
            {APP_STRATEGIES.map((s) => (
              <option key={s} value={s}>
                {STRATEGY_LABELS[s].summary}
              </option>
            ))}
          </select>
        </div>
        {ROUND_TRAITS[strategy].declaresShape ? (
          <div className="row">
            <label htmlFor={ids.width}>Token width</label>
            <select id={ids.width} value={tokenWidth} onChange={(e) => setTokenWidth(Number(e.target.value))} aria-describedby={ids.widthHint}>
              {TOKEN_WIDTHS.map((w) => (
                <option key={w.width} value={w.width}>
                  {w.width} ({w.models})
                </option>
              ))}
            </select>
            <span id={ids.widthHint} className="muted small">
              Every clinic extracts with a model of this width. The rounds declare the upload shape it gives, so an upload of another shape is refused, naming it, from the first one on.
            </span>
          </div>
        ) : null}
        <div className="row">
          <label htmlFor={ids.quorum}>Quorum (clinics per round)</label>
          <input id={ids.quorum} className="narrow" type="number" min={1} max={1000} step={1} value={quorum} onChange={(e) => setQuorum(e.target.valueAsNumber)} required />
          <label htmlFor={ids.seconds}>Round length (seconds)</label>
          <input id={ids.seconds} type="number" min={5} max={30 * 86_400} step={1} value={roundSeconds} onChange={(e) => setRoundSeconds(e.target.valueAsNumber)} required />
          <span className="muted small">{Number.isFinite(roundSeconds) && roundSeconds >= 5 ? `= ${roundLength(roundSeconds)}` : '5 s to 30 days'}</span>
        </div>
        <div className="row">
          <label htmlFor={ids.expected}>Expected clinics</label>
          <input id={ids.expected} className="narrow" type="number" min={1} max={100_000} step={1} value={expected} onChange={(e) => setExpected(e.target.valueAsNumber)} aria-describedby={ids.hint} />
          <label htmlFor={ids.preset}>Encryption preset</label>
          <select id={ids.preset} value={preset} onChange={(e) => setPreset(e.target.value as AggregationPresetId)} aria-describedby={ids.hint}>
            {AGGREGATION_PRESET_IDS.map((id) => (
              <option key={id} value={id}>
                {PRESET_LABELS[id]}
              </option>
            ))}
          </select>
        </div>
        <p id={ids.hint} className={advice && advice !== preset ? 'notice warn' : 'muted small'} data-testid="preset-hint">
          {advice === null
            ? 'Enter the expected number of clinics for a preset recommendation.'
            : advice === 'agg-v1'
              ? `For ${expected} clinics agg-v1 fits: the weighted sum keeps at least 2^30 of CKKS scale, and uploads stay at one ≤ 64 KiB ciphertext.`
              : `For ${expected} clinics agg-wide-v1 fits: agg-v1 would encode below 2^30 and lose precision on the weighted mean.`}
          {advice && advice !== preset ? ` The preset chosen is ${preset}.` : ''}
        </p>
        <div className="row">
          <button type="submit" disabled={busy !== null}>
            Create federation
          </button>
        </div>
      </form>
    </Section>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setCopied('Copied'),
      () => setCopied('Copy failed: select the text and copy it by hand'),
    );
  return (
    <>
      <button type="button" className="secondary" onClick={() => void copy()} aria-label={label}>
        Copy
      </button>
      {copied ? (
        <span className="muted small" role="status">
          {copied}
        </span>
      ) : null}
    </>
  );
}

function InvitesSection({ federation }: { federation: FederationView }) {
  const { issued, busy, issueInvites } = useAdmin();
  const [count, setCount] = useState(3);
  const countId = useId();
  const codes = issued?.federationId === federation.id ? issued.codes : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void issueInvites(federation.id, count);
  };
  return (
    <Section step={4} title={`Invite codes for ${federation.name}`}>
      <p>Each code enrols one clinic once. They are shown here once: copy them now and hand them over by a trusted channel.</p>
      <form onSubmit={submit} className="row">
        <label htmlFor={countId}>Number of invite codes</label>
        <input id={countId} className="narrow" type="number" min={1} max={100} step={1} value={count} onChange={(e) => setCount(e.target.valueAsNumber)} required />
        <button type="submit" disabled={busy !== null}>
          Issue invite codes
        </button>
      </form>
      {codes ? (
        <>
          <ul className="codes" data-testid="invite-codes" aria-label="New invite codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code> <CopyButton text={c} label={`Copy invite code ${c}`} />
              </li>
            ))}
          </ul>
          <CopyButton text={codes.join('\n')} label="Copy all invite codes" />
        </>
      ) : null}
    </Section>
  );
}


function AuditSection({ step }: { step: number }) {
  const { audit, chain, refresh } = useAdmin();
  return (
    <Section step={step} title="Audit log">
      <p>Append-only and hash-chained: each entry's SHA-256 covers the previous entry's hash, so no entry can be changed, removed or inserted unseen. This browser checks the chain itself.</p>
      {chain ? (
        <p className={chain.ok ? 'notice ok' : 'notice error'} role="status" data-testid="audit-chain">
          {chain.ok
            ? `Chain verified: ${chain.entries} entr${chain.entries === 1 ? 'y' : 'ies'}${chain.entries ? (chain.fromGenesis ? ', from the first entry ever.' : `, from entry #${chain.firstId} (older entries are not shown).`) : '.'}`
            : `Chain broken at entry #${chain.brokenId}: ${chain.reason}.`}
        </p>
      ) : null}
      <button type="button" className="secondary" onClick={() => void refresh()}>
        Refresh federations and audit log
      </button>
      {audit.length ? (
        <table className="results audit-log" data-testid="audit-log">
          <caption>Audit entries, newest first</caption>
          <ColumnHeads columns={['#', 'When', 'Who', 'What', 'Detail', 'Hash']} />
          <tbody>
            {audit.map((e) => (
              <tr key={e.id} className={chain && !chain.ok && chain.brokenId === e.id ? 'broken' : undefined}>
                <th scope="row">{e.id}</th>
                <td>
                  <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time>
                </td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>
                  <code className="detail">{e.detail}</code>
                </td>
                <td>
                  <code title={e.hash}>{e.hash.slice(0, 12)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

export function AdminPage() {
  const { token, federations, busy, error, refresh } = useAdmin();
  const [selected, setSelected] = useState<string | null>(null);
  useEffect(() => {
    if (!token) return;
    const controller = new AbortController();
    const tick = () => void refresh(controller.signal);
    tick();
    const timer = setInterval(tick, 5000);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [token, refresh]);
  const federation = federations.find((f) => f.id === selected) ?? null;
  return (
    <div className="stack">
      <h1>Admin</h1>
      <p>For the coordinator's operator (hospital IT): federations, invite codes, rounds, the audit log and background jobs. Clinics never need this page.</p>
      <TokenSection />
      <Busy text={busy} />
      <ErrorText text={error} />
      {token ? (
        <>
          <FederationsSection selected={selected} onSelect={setSelected} />
          <CreateSection onCreated={(f) => setSelected(f.id)} />
          {federation ? <InvitesSection federation={federation} /> : null}
          {federation ? <RoundsSection federation={federation} /> : null}
          <AuditSection step={federation ? 6 : 4} />
          <JobsSection step={federation ? 7 : 5} />
        </>
      ) : null}
    </div>
  );
}
