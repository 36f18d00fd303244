// The clinic's path through one federation round: join, hold the key, extract tokens, upload ciphertexts,
// decrypt the aggregate. Each step says what it does in one line of plain language.
import { type FormEvent, useEffect, useId, useMemo, useState } from 'react';
import type { PresetId } from '../../he/params.ts';
import { Busy, ErrorText, Section } from '../components/Section.tsx';
import type { BackendName } from '../lib/url-params.ts';
import { useKeys } from '../stores/keys.ts';
import { useRound } from '../stores/round.ts';
import { useSession } from '../stores/session.ts';
import { useTiles } from '../stores/tiles.ts';

function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function JoinSection() {
  const { federation, clinicName, busy, error, enrol, leave } = useSession();
  const [invite, setInvite] = useState('');
  const [name, setName] = useState('');
  const inviteId = useId();
  const nameId = useId();
  if (federation) {
    return (
      <Section step={1} title="Federation">
        <p>
          Joined <strong>{federation.name}</strong> as <strong data-testid="clinic-name">{clinicName}</strong> (round {federation.currentRound}, quorum{' '}
          {federation.minClinics} clinics).
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

function KeySection({ token, clinicId, federationId, presetId }: { token: string; clinicId: string; federationId: string; presetId: PresetId }) {
  const { secretKey, requests, busy, error, restore, createKey, importKeyFile, exportKeyFile, requestKey, pollRequests, approve, accept } = useKeys();
  const { keyHolders, refresh } = useSession();
  const [passphrase, setPassphrase] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const passId = useId();
  const fileId = useId();
  const clinic = useMemo(() => ({ token, clinicId, federationId }), [token, clinicId, federationId]);
  useEffect(() => {
    void restore(federationId);
  }, [federationId, restore]);
  useEffect(() => {
    const controller = new AbortController();
    const tick = () => {
      void pollRequests(clinic, controller.signal);
      void refresh();
    };
    tick();
    const timer = setInterval(tick, 2000);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [clinic, pollRequests, refresh]);
  const mine = requests.find((r) => r.requesterId === clinicId);
  const pendingForMe = secretKey ? requests.filter((r) => r.requesterId !== clinicId && r.status === 'pending') : [];
  return (
    <Section step={2} title="Federation key">
      <p>The secret key decrypts the federation's results. It never leaves this browser unprotected.</p>
      <p data-testid="key-status">{secretKey ? 'This clinic holds the federation key.' : 'No federation key on this browser yet.'}</p>
      {!secretKey && keyHolders === 0 ? (
        <button type="button" onClick={() => void createKey(clinic, presetId).then(refresh)}>
          Create federation key (founder)
        </button>
      ) : null}
      {!secretKey && keyHolders > 0 && !mine ? (
        <button type="button" onClick={() => void requestKey(clinic)}>
          Request the key from a key holder
        </button>
      ) : null}
      {!secretKey && mine?.status === 'pending' ? <p data-testid="relay-status">Waiting for a key holder to approve this clinic…</p> : null}
      {!secretKey && mine?.status === 'wrapped' ? (
        <div className="relay">
          <p>
            A key holder approved this clinic. Safety code: <strong data-testid="safety-code">{mine.safetyCode}</strong>. Compare it with the approver by
            phone; accept only if both screens show the same code.
          </p>
          <button type="button" onClick={() => void accept(clinic, mine).then(refresh)}>
            Codes match: accept the key
          </button>
        </div>
      ) : null}
      {pendingForMe.map((r) => (
        <div className="relay" key={r.requesterId}>
          <p>
            <strong>{r.requesterName}</strong> asks for the federation key. Safety code: <strong data-testid={`safety-code-${r.requesterName}`}>{r.safetyCode}</strong>
          </p>
          <button type="button" onClick={() => void approve(clinic, r)}>
            Approve {r.requesterName}
          </button>
        </div>
      ))}
      <details open={!secretKey && keyHolders > 0}>
        <summary>Key file (passphrase-protected)</summary>
        <div className="row">
          <label htmlFor={passId}>Key file passphrase</label>
          <input id={passId} type="password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} autoComplete="new-password" />
        </div>
        {secretKey ? (
          <button
            type="button"
            onClick={() =>
              void exportKeyFile(passphrase).then((blob) => {
                if (blob) downloadBlob(blob, `cipherpath-${federationId}.cpkey`);
              })
            }
          >
            Export key file
          </button>
        ) : (
          <div className="row">
            <label htmlFor={fileId}>Key file</label>
            <input id={fileId} type="file" accept=".cpkey,application/octet-stream" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
            <button type="button" disabled={!file} onClick={() => file && void importKeyFile(federationId, file, passphrase)}>
              Import key file
            </button>
          </div>
        )}
      </details>
      <Busy text={busy} />
      <ErrorText text={error} />
    </Section>
  );
}

function TilesSection({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const { tiles, tokens, backend, progress, busy, error, loadSampleSet, extract, cancel } = useTiles();
  const [sampleSet, setSampleSet] = useState(1);
  const setId = useId();
  return (
    <Section step={3} title="Tiles and [CLS] tokens">
      <p>A Vision Transformer turns each tile into a feature vector, here in this browser. Pixels never leave it.</p>
      <div className="row">
        <label htmlFor={setId}>Sample set</label>
        <select id={setId} value={sampleSet} onChange={(e) => setSampleSet(Number(e.target.value))}>
          {[1, 2, 3, 4, 5, 6].map((k) => (
            <option key={k} value={k}>
              Set {k}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void loadSampleSet(sampleSet)}>
          Load sample tiles
        </button>
        <button type="button" disabled={tiles.length === 0 || busy !== null} onClick={() => void extract(forcedBackend)}>
          Extract [CLS] tokens
        </button>
        {busy && progress ? (
          <button type="button" className="secondary" onClick={cancel}>
            Cancel
          </button>
        ) : null}
      </div>
      <p data-testid="tile-count">{tiles.length} tile(s) loaded</p>
      {backend ? (
        <p className="badge" data-testid="backend">
          ViT backend: <strong data-testid="backend-name">{backend.backend}</strong>
          {backend.skipped.length > 0 ? ` (skipped: ${backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})` : null}
        </p>
      ) : null}
      {progress ? (
        <progress max={progress.total} value={progress.done} aria-label="Extraction progress">
          {progress.done}/{progress.total}
        </progress>
      ) : null}
      {tokens ? (
        <>
          <p data-testid="token-summary">
            {tokens.length} token(s) of {tokens[0]?.length ?? 0} dimensions
          </p>
          <details>
            <summary>Raw token values</summary>
            <textarea readOnly aria-label="Token values (JSON)" rows={4} value={JSON.stringify(tokens.map((t) => Array.from(t)))} />
          </details>
        </>
      ) : null}
      <Busy text={busy} />
      <ErrorText text={error} />
    </Section>
  );
}

function RoundSection({ token, federationId, presetId, round }: { token: string; federationId: string; presetId: PresetId; round: number }) {
  const secretKey = useKeys((s) => s.secretKey);
  const tokens = useTiles((s) => s.tokens);
  const { view, upload, decryptedSum, busy, error, poll, participate, decryptAggregate } = useRound();
  const shownRound = upload?.round ?? round;
  useEffect(() => {
    const controller = new AbortController();
    const tick = () => void poll(token, federationId, shownRound, controller.signal);
    tick();
    const timer = setInterval(tick, 1500);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [token, federationId, shownRound, poll]);
  const canUpload = secretKey !== null && tokens !== null && busy === null;
  return (
    <Section step={4} title={`Round ${shownRound}`}>
      <p>Tokens are encrypted here with CKKS; the coordinator adds ciphertexts without being able to read them.</p>
      <p data-testid="round-status" aria-live="polite">
        Status: {view ? `${view.status} — ${view.submitted.length}/${view.quorum} clinics submitted` : 'loading…'}
        {view && view.submitted.length > 0 ? ` (${view.submitted.join(', ')})` : ''}
      </p>
      <div className="row">
        <button
          type="button"
          disabled={!canUpload}
          onClick={() => secretKey && tokens && void participate({ token, federationId, presetId, round: shownRound, secretKey, tokens })}
        >
          Encrypt and upload
        </button>
        <button
          type="button"
          disabled={view?.status !== 'closed' || !secretKey || !tokens || busy !== null}
          onClick={() =>
            secretKey &&
            tokens &&
            void decryptAggregate({ token, federationId, presetId, round: shownRound, secretKey, tokenCount: tokens.length, dim: tokens[0]?.length ?? 0 })
          }
        >
          Download and decrypt the sum
        </button>
      </div>
      {upload ? (
        <p data-testid="upload-summary">
          Uploaded {upload.ciphertexts} ciphertext(s), {(upload.bytes / 1024).toFixed(0)} KiB, to round {upload.round}
          {upload.duplicate ? ' (already received earlier)' : ''}.
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

export function FederationPage({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const { token, clinicId, federation, refresh } = useSession();
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return (
    <div className="stack">
      <JoinSection />
      {token && federation && clinicId ? <KeySection token={token} clinicId={clinicId} federationId={federation.id} presetId={federation.presetId as PresetId} /> : null}
      <TilesSection forcedBackend={forcedBackend} />
      {token && federation ? (
        <RoundSection token={token} federationId={federation.id} presetId={federation.presetId as PresetId} round={federation.currentRound} />
      ) : null}
    </div>
  );
}
