// Step 2 of the federation page: this clinic's federation key, created here (founder), received through the key
// relay (KeyRelay.tsx), or moved by a passphrase-protected key file.
import { useEffect, useId, useMemo, useState } from 'react';
import type { PresetId } from '../../he/params.ts';
import { useKeys } from '../stores/keys.ts';
import { useSession } from '../stores/session.ts';
import { KeyRelay } from './KeyRelay.tsx';
import { Busy, ErrorText, Section } from './Section.tsx';

function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function FederationKeySection({ token, clinicId, federationId, presetId }: { token: string; clinicId: string; federationId: string; presetId: PresetId }) {
  const { aggregation, busy, error, restore, createKey, importKeyFile, exportKeyFile } = useKeys();
  const holdsKey = aggregation !== null;
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
    // Holding the key changes what this clinic may do in a relay; the coordinator says so.
    const timer = setInterval(() => void refresh(), 2000);
    return () => clearInterval(timer);
  }, [refresh]);
  return (
    <Section step={2} title="Federation key">
      <p>The secret key decrypts the federation's results. It never leaves this browser unprotected.</p>
      <p data-testid="key-status">{holdsKey ? 'This clinic holds the federation key.' : 'No federation key on this browser yet.'}</p>
      {!holdsKey && keyHolders === 0 ? (
        <button type="button" onClick={() => void createKey(clinic, presetId).then(refresh)}>
          Create federation key (founder)
        </button>
      ) : null}
      <KeyRelay clinic={clinic} holdsKey={holdsKey} keyHolders={keyHolders} />
      <details open={!holdsKey && keyHolders > 0}>
        <summary>Key file (passphrase-protected)</summary>
        <div className="row">
          <label htmlFor={passId}>Key file passphrase</label>
          <input id={passId} type="password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} autoComplete="new-password" />
        </div>
        {holdsKey ? (
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
