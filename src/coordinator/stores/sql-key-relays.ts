// Key relays on the SQL store (table key_relays: node:sqlite migration v5, Postgres migration 1). Each step is one conditional UPDATE on the expected
// status, so two holders answering at once, or a reveal racing an abort, leave exactly one winner. The coordinator
// stores what it relays; it cannot check the codes people compare, and the clients trust none of it.
import type { KeyRelayAbortReason, KeyRelayStatus } from '../../protocol/vocabulary.ts';
import type { SqlDriver, SqlQueries } from './sql-driver.ts';
import type { KeyRelayRow, KeyRelays } from './types.ts';

const SELECT = `SELECT k.id, k.federation_id AS "federationId", k.status, k.requester_id AS "requesterId", r.name AS "requesterName",
    k.requester_identity_key AS "requesterIdentityKey", k.commitment, k.holder_id AS "holderId", h.name AS "holderName",
    k.holder_identity_key AS "holderIdentityKey", k.holder_ephemeral_key AS "holderEphemeralKey", k.holder_nonce AS "holderNonce",
    k.requester_ephemeral_key AS "requesterEphemeralKey", k.requester_nonce AS "requesterNonce", k.wrapped_sha AS "wrappedSha",
    k.abort_reason AS "abortReason", k.created_at AS "createdAt"
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

const LISTED = 50;
const OPEN = "status NOT IN ('accepted', 'aborted')";
const now = (): string => new Date().toISOString();

export class SqlKeyRelays implements KeyRelays {
  private readonly db: SqlDriver;

  constructor(db: SqlDriver) {
    this.db = db;
  }

  async start(r: { id: string; federationId: string; requesterId: string; requesterIdentityKey: Uint8Array; commitment: Uint8Array }): Promise<string[]> {
    const at = now();
    return this.db.tx(async (q) => {
      const open = `WHERE federation_id = ? AND requester_id = ? AND ${OPEN}`;
      const superseded = (await q.all(`SELECT id FROM key_relays ${open}`, r.federationId, r.requesterId)).map((x) => x.id as string);
      await q.run(`UPDATE key_relays SET status = 'aborted', abort_reason = 'cancelled', updated_at = ? ${open}`, at, r.federationId, r.requesterId);
      await q.run(
        "INSERT INTO key_relays (id, federation_id, requester_id, requester_identity_key, commitment, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'committed', ?, ?)",
        r.id, r.federationId, r.requesterId, r.requesterIdentityKey, r.commitment, at, at,
      );
      return superseded;
    });
  }

  async list(federationId: string): Promise<KeyRelayRow[]> {
    // Ties in created_at (same millisecond) fall back to the id, which is random: the order among them is arbitrary
    // but stable, and the newest relay of a requester is the only open one.
    return (await this.db.all(`${SELECT} WHERE k.federation_id = ? ORDER BY k.created_at DESC, k.id DESC LIMIT ?`, federationId, LISTED)).map(toRow);
  }

  async get(federationId: string, id: string): Promise<KeyRelayRow | undefined> {
    const row = await this.db.get(`${SELECT} WHERE k.federation_id = ? AND k.id = ?`, federationId, id);
    return row ? toRow(row) : undefined;
  }

  private async step(q: SqlQueries, id: string, from: KeyRelayStatus, to: KeyRelayStatus, set: Record<string, Uint8Array | string>): Promise<boolean> {
    const columns = Object.keys(set);
    const sql = `UPDATE key_relays SET status = ?, updated_at = ?${columns.map((c) => `, ${c} = ?`).join('')} WHERE id = ? AND status = ?`;
    return (await q.run(sql, to, now(), ...columns.map((c) => set[c] as Uint8Array | string), id, from)) === 1;
  }

  async answer(id: string, holderId: string, holderIdentityKey: Uint8Array, ephemeralKey: Uint8Array, nonce: Uint8Array): Promise<boolean> {
    return this.step(this.db, id, 'committed', 'responded', { holder_id: holderId, holder_identity_key: holderIdentityKey, holder_ephemeral_key: ephemeralKey, holder_nonce: nonce });
  }

  async reveal(id: string, ephemeralKey: Uint8Array, nonce: Uint8Array): Promise<boolean> {
    return this.step(this.db, id, 'responded', 'revealed', { requester_ephemeral_key: ephemeralKey, requester_nonce: nonce });
  }

  async deliverWrap(id: string, wrappedSha: string): Promise<boolean> {
    return this.step(this.db, id, 'revealed', 'wrapped', { wrapped_sha: wrappedSha });
  }

  async accept(id: string, requesterId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      if (!(await this.step(q, id, 'wrapped', 'accepted', {}))) return false;
      await q.run('UPDATE clinics SET holds_key = 1 WHERE id = ?', requesterId);
      return true;
    });
  }

  async abort(id: string, reason: KeyRelayAbortReason): Promise<boolean> {
    return (await this.db.run(`UPDATE key_relays SET status = 'aborted', abort_reason = ?, updated_at = ? WHERE id = ? AND ${OPEN}`, reason, now(), id)) === 1;
  }
}
