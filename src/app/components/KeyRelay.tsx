// The key relay on screen (stores/relay.ts): both people see the same 8-digit code before any key is wrapped; the
// holder confirms it (typed or "codes match") before the key is released, the requester before it is opened, and a
// mismatch stops the relay visibly and is audited at the coordinator.
import { useEffect, useId, useMemo, useState } from 'react';
import { useKeys } from '../stores/keys.ts';
import { abortText, type RelayClinic, type RelayEntry, useRelay } from '../stores/relay.ts';
import { Busy, ErrorText } from './Section.tsx';

function Compare({ clinic, entry }: { clinic: RelayClinic; entry: RelayEntry }) {
  const { confirm, reject } = useRelay();
  const [typed, setTyped] = useState('');
  const inputId = useId();
  const holder = entry.role === 'holder';
  return (
    <>
      <p>
        Relay code: <strong className="relay-code" data-testid="relay-code">{entry.code}</strong>
      </p>
      {entry.identityWarning ? (
        <p className="notice error" role="alert" data-testid="identity-warning">
          {entry.identityWarning}
        </p>
      ) : null}
      <p>
        Call {entry.peerName} on a number you already know and compare codes.{' '}
        {holder ? 'The key is released only when you confirm that both screens show the same code.' : 'Confirm only if both screens show the same code.'}
      </p>
      <div className="row">
        <label htmlFor={inputId}>Code read out by {entry.peerName}</label>
        <input id={inputId} value={typed} onChange={(e) => setTyped(e.target.value)} inputMode="numeric" autoComplete="off" placeholder="1234 5678" />
        <button type="button" onClick={() => void confirm(clinic, entry.relayId, typed)}>
          {holder ? `Codes match: release the key to ${entry.peerName}` : 'Codes match: receive the key'}
        </button>
        <button type="button" className="secondary" onClick={() => void reject(clinic, entry.relayId, 'code-mismatch')}>
          Codes differ: stop
        </button>
      </div>
    </>
  );
}

function Entry({ clinic, entry }: { clinic: RelayClinic; entry: RelayEntry }) {
  const { answer, request, reject } = useRelay();
  const again = (
    <button type="button" onClick={() => void request(clinic)}>
      Request the key again
    </button>
  );
  switch (entry.phase) {
    case 'waiting-for-holder':
      return <p data-testid="relay-status">Waiting for a key holder to answer this clinic’s request…</p>;
    case 'incoming':
      return (
        <>
          <p>
            <strong>{entry.peerName}</strong> asks for the federation key.
          </p>
          <button type="button" onClick={() => void answer(clinic, entry.relayId)}>
            Verify {entry.peerName}
          </button>
        </>
      );
    case 'waiting-for-requester':
      return <p data-testid="relay-status">Waiting for {entry.peerName} to open its commitment…</p>;
    case 'compare':
      return <Compare clinic={clinic} entry={entry} />;
    case 'confirmed':
      return (
        <p data-testid="relay-status">
          {entry.role === 'holder' ? `Key released to ${entry.peerName}, wrapped for it alone; waiting for it to accept.` : `Code confirmed; waiting for ${entry.peerName} to release the key…`}
        </p>
      );
    case 'lost':
      return (
        <>
          <p data-testid="relay-status">This page was reloaded during the relay with {entry.peerName}, so its one-time keys are gone.</p>
          {entry.role === 'requester' ? (
            again
          ) : (
            <button type="button" className="secondary" onClick={() => void reject(clinic, entry.relayId, 'cancelled')}>
              Cancel this relay
            </button>
          )}
        </>
      );
    case 'aborted':
      return (
        <>
          <p className="notice error" role="alert" data-testid="relay-aborted">
            Key relay with {entry.peerName} stopped: {abortText(entry.abortReason)} The coordinator has logged it.
          </p>
          {entry.role === 'requester' ? again : null}
        </>
      );
  }
}

/** Requests, answers and confirmations for this clinic; `holdsKey` decides which side of a relay it can take. */
export function KeyRelay({ clinic: access, holdsKey, keyHolders }: { clinic: Omit<RelayClinic, 'keys'>; holdsKey: boolean; keyHolders: number }) {
  const { entries, busy, error, poll, request } = useRelay();
  // The relay store reaches the federation key only through what is handed to it here (stores do not call each other).
  const sealer = useKeys((s) => s.relaySealer);
  const adopt = useKeys((s) => s.adoptRelayedKeys);
  const clinic = useMemo<RelayClinic>(() => ({ ...access, keys: { sealer, adopt } }), [access, sealer, adopt]);
  useEffect(() => {
    const controller = new AbortController();
    void poll(clinic, controller.signal);
    const timer = setInterval(() => void poll(clinic, controller.signal), 2000);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [clinic, poll]);
  const mine = entries.find((e) => e.role === 'requester');
  const shown = entries.filter((e) => (holdsKey ? e.role === 'holder' : e.role === 'requester'));
  return (
    <div data-testid="key-relay">
      {!holdsKey && keyHolders > 0 && !mine ? (
        <button type="button" onClick={() => void request(clinic)}>
          Request the key from a key holder
        </button>
      ) : null}
      {shown.map((entry) => (
        <div className="relay" key={entry.relayId} data-testid={`relay-${entry.peerName}`}>
          <Entry clinic={clinic} entry={entry} />
        </div>
      ))}
      <Busy text={busy} />
      <ErrorText text={error} />
    </div>
  );
}
