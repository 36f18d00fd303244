// Settings: this clinic's relay identity fingerprint (what other clinics pin) and the identities pinned here on first
// use. People can read fingerprints to each other once, so a later "identity changed" warning can be checked.
import { useEffect, useState } from 'react';
import { identityFingerprint, type PinnedIdentity } from '../../custody/pinning.ts';
import { identityPins } from '../lib/identity-pins.ts';
import { loadOrCreateIdentity } from '../lib/keyvault.ts';
import { useSession } from '../stores/session.ts';
import { ErrorText, Section } from './Section.tsx';

export function RelayIdentities({ step }: { step: number }) {
  const clinicId = useSession((s) => s.clinicId);
  const [own, setOwn] = useState<string | null>(null);
  const [pins, setPins] = useState<PinnedIdentity[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (clinicId) void loadOrCreateIdentity(clinicId).then((id) => setOwn(identityFingerprint(id.publicKeyRaw)), (e: unknown) => setError((e as Error).message));
    void identityPins.all().then(setPins, (e: unknown) => setError((e as Error).message));
  }, [clinicId]);
  return (
    <Section step={step} title="Key relay identities">
      <p>
        This clinic’s identity fingerprint: <code data-testid="own-fingerprint">{clinicId ? (own ?? '…') : 'join a federation first'}</code>
      </p>
      {pins.length ? (
        <dl className="facts" data-testid="pinned-identities">
          {pins.map((p) => (
            <div key={p.clinicId}>
              <dt>
                {p.clinicName} ({p.clinicId})
              </dt>
              <dd>
                <code>{identityFingerprint(p.identityKey)}</code>, pinned {p.pinnedAt.slice(0, 10)}
              </dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="muted">No other clinic pinned yet: a clinic’s identity is pinned the first time a key relay shows it, and again when a relay with it is confirmed.</p>
      )}
      <ErrorText text={error} />
    </Section>
  );
}
