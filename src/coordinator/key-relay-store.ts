// Durable state of key relays (table key_relays, migration v4 in store.ts). Each step is one conditional UPDATE on
// the expected status, so two holders answering at once, or a reveal racing an abort, leave exactly one winner.
// The coordinator stores what it relays; it cannot check the codes people compare, and the clients trust none of it.
import type { KeyRelayAbortReason, KeyRelayStatus } from '../protocol/vocabulary.ts';
import type { Store } from './store.ts';

export interface KeyRelayRow {
  id: string;
  federationId: string;
  status: KeyRelayStatus;
  requesterId: string;
  requesterName: string;
  requesterIdentityKey: Uint8Array;
  commitment: Uint8Array;
  holderId: string | null;
  holderName: string | null;
  holderIdentityKey: Uint8Array | null;
  holderEphemeralKey: Uint8Array | null;
  holderNonce: Uint8Array | null;
  requesterEphemeralKey: Uint8Array | null;
  requesterNonce: Uint8Array | null;
  wrappedSha: string | null;
  abortReason: string | null;
  createdAt: string;
}

const SELECT = `SELECT k.id, k.federation_id AS federationId, k.status, k.requester_id AS requesterId, r.name AS requesterName,
    k.requester_identity_key AS requesterIdentityKey, k.commitment, k.holder_id AS holderId, h.name AS holderName,
    k.holder_identity_key AS holderIdentityKey, k.holder_ephemeral_key AS holderEphemeralKey, k.holder_nonce AS holderNonce,
    k.requester_ephemeral_key AS requesterEphemeralKey, k.requester_nonce AS requesterNonce, k.wrapped_sha AS wrappedSha,
    k.abort_reason AS abortReason, k.created_at AS createdAt
  FROM key_relays k JOIN clinics r ON r.id = k.requester_id LEFT JOIN clinics h ON h.id = k.holder_id`;

const bytes = (v: unknown): Uint8Array | null => (v ? new Uint8Array(v as Uint8Array) : null);

function toRow(r: Record<string, unknown>): KeyRelayRow {
  return {
    ...(r as unknown as KeyRelayRow),
    requesterIdentityKey: bytes(r.requesterIdentityKey) as Uint8Array,
    commitment: bytes(r.commitment) as Uint8Array,
    holderIdentityKey: bytes(r.holderIdentityKey),
    holderEphemeralKey: bytes(r.holderEphemeralKey),
    holderNonce: bytes(r.holderNonce),
    requesterEphemeralKey: bytes(r.requesterEphemeralKey),
    requesterNonce: bytes(r.requesterNonce),
  };
}

/** Relays a federation keeps listed: the open ones and the most recent finished ones. */
const LISTED = 50;
const OPEN = "status NOT IN ('accepted', 'aborted')";

export class KeyRelayStore {
  private readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }

  private get db() {
    return this.store.db;
  }

  /** A new relay supersedes the requester's open one (aborted as 'cancelled'), in one transaction. */
  start(r: { id: string; federationId: string; requesterId: string; requesterIdentityKey: Uint8Array; commitment: Uint8Array }): string[] {
    const at = new Date().toISOString();
    return this.store.transaction(() => {
      const superseded = (this.db.prepare(`SELECT id FROM key_relays WHERE federation_id = ? AND requester_id = ? AND ${OPEN}`).all(r.federationId, r.requesterId) as { id: string }[]).map((x) => x.id);
      this.db.prepare(`UPDATE key_relays SET status = 'aborted', abort_reason = 'cancelled', updated_at = ? WHERE federation_id = ? AND requester_id = ? AND ${OPEN}`).run(at, r.federationId, r.requesterId);
      this.db
        .prepare("INSERT INTO key_relays (id, federation_id, requester_id, requester_identity_key, commitment, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'committed', ?, ?)")
        .run(r.id, r.federationId, r.requesterId, r.requesterIdentityKey, r.commitment, at, at);
      return superseded;
    });
  }

  list(federationId: string): KeyRelayRow[] {
    return (this.db.prepare(`${SELECT} WHERE k.federation_id = ? ORDER BY k.created_at DESC, k.rowid DESC LIMIT ?`).all(federationId, LISTED) as Record<string, unknown>[]).map(toRow);
  }

  get(federationId: string, id: string): KeyRelayRow | undefined {
    const row = this.db.prepare(`${SELECT} WHERE k.federation_id = ? AND k.id = ?`).get(federationId, id) as Record<string, unknown> | undefined;
    return row ? toRow(row) : undefined;
  }

  private step(id: string, from: KeyRelayStatus, to: KeyRelayStatus, set: Record<string, Uint8Array | string>): boolean {
    const columns = Object.keys(set);
    const result = this.db
      .prepare(`UPDATE key_relays SET status = ?, updated_at = ?${columns.map((c) => `, ${c} = ?`).join('')} WHERE id = ? AND status = ?`)
      .run(to, new Date().toISOString(), ...columns.map((c) => set[c] as Uint8Array | string), id, from);
    return Number(result.changes) === 1;
  }

  answer(id: string, holderId: string, holderIdentityKey: Uint8Array, ephemeralKey: Uint8Array, nonce: Uint8Array): boolean {
    return this.step(id, 'committed', 'responded', { holder_id: holderId, holder_identity_key: holderIdentityKey, holder_ephemeral_key: ephemeralKey, holder_nonce: nonce });
  }

  reveal(id: string, ephemeralKey: Uint8Array, nonce: Uint8Array): boolean {
    return this.step(id, 'responded', 'revealed', { requester_ephemeral_key: ephemeralKey, requester_nonce: nonce });
  }

  deliverWrap(id: string, wrappedSha: string): boolean {
    return this.step(id, 'revealed', 'wrapped', { wrapped_sha: wrappedSha });
  }

  /** The requester opened the wrap: it becomes a key holder in the same transaction. */
  accept(id: string, requesterId: string): boolean {
    return this.store.transaction(() => {
      if (!this.step(id, 'wrapped', 'accepted', {})) return false;
      this.store.markKeyHolder(requesterId);
      return true;
    });
  }

  abort(id: string, reason: KeyRelayAbortReason): boolean {
    const result = this.db.prepare(`UPDATE key_relays SET status = 'aborted', abort_reason = ?, updated_at = ? WHERE id = ? AND ${OPEN}`).run(reason, new Date().toISOString(), id);
    return Number(result.changes) === 1;
  }
}
