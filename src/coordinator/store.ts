// Durable state of the coordinator: metadata in node:sqlite (WAL, synchronous=FULL so an accepted upload survives
// SIGKILL), ciphertext bytes as content-addressed files (sha256) beside it. Blobs are written and fsynced before the
// row that names them is committed, so a row never points at a missing blob.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { sha256Hex } from '../common/sha256.ts';
import { AUDIT_GENESIS_HASH, type AuditEntry, auditHashInput, type FederationView, type RoundStatus } from '../protocol/api.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE federations (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, preset_id TEXT NOT NULL, min_clinics INTEGER NOT NULL,
     current_round INTEGER NOT NULL, created_at TEXT NOT NULL);
   CREATE TABLE invites (
     code_hash TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id),
     used_by TEXT, created_at TEXT NOT NULL);
   CREATE TABLE clinics (
     id TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id), name TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
   CREATE TABLE rounds (
     federation_id TEXT NOT NULL REFERENCES federations(id), round INTEGER NOT NULL, status TEXT NOT NULL,
     opened_at TEXT NOT NULL, closed_at TEXT, aggregate_sha TEXT, ciphertext_count INTEGER,
     PRIMARY KEY (federation_id, round));
   CREATE TABLE uploads (
     federation_id TEXT NOT NULL, round INTEGER NOT NULL, clinic_id TEXT NOT NULL REFERENCES clinics(id),
     sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, ciphertext_count INTEGER NOT NULL, created_at TEXT NOT NULL,
     PRIMARY KEY (federation_id, round, clinic_id));
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
     detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);`,
  // v2: key custody (public keys, key requests, wrapped keys, evaluation keys) and round deadlines.
  `ALTER TABLE federations ADD COLUMN round_seconds INTEGER NOT NULL DEFAULT 3600;
   ALTER TABLE federations ADD COLUMN strategy TEXT NOT NULL DEFAULT 'sum';
   ALTER TABLE rounds ADD COLUMN deadline_at TEXT;
   ALTER TABLE clinics ADD COLUMN public_key BLOB;
   ALTER TABLE clinics ADD COLUMN holds_key INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE key_requests (
     federation_id TEXT NOT NULL, requester_id TEXT NOT NULL REFERENCES clinics(id), status TEXT NOT NULL,
     holder_id TEXT, wrapped_sha TEXT, created_at TEXT NOT NULL, PRIMARY KEY (federation_id, requester_id));
   CREATE TABLE evaluation_keys (
     federation_id TEXT NOT NULL, kind TEXT NOT NULL, sha256 TEXT NOT NULL, uploaded_by TEXT NOT NULL,
     created_at TEXT NOT NULL, PRIMARY KEY (federation_id, kind));`,
  // v3: the inference model each federation serves (head in clear or encrypted, with its layout).
  `CREATE TABLE inference_models (
     federation_id TEXT PRIMARY KEY REFERENCES federations(id), sha256 TEXT NOT NULL, uploaded_by TEXT NOT NULL,
     created_at TEXT NOT NULL);`,
  // v4: the commit-then-reveal key relay (key-relay-store.ts) replaces key requests, whose v1 wraps carried no
  // authenticated transcript; a clinic that was mid-request simply asks again.
  `DROP TABLE key_requests;
   CREATE TABLE key_relays (
     id TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id),
     requester_id TEXT NOT NULL REFERENCES clinics(id), requester_identity_key BLOB NOT NULL, commitment BLOB NOT NULL,
     holder_id TEXT REFERENCES clinics(id), holder_identity_key BLOB, holder_ephemeral_key BLOB, holder_nonce BLOB,
     requester_ephemeral_key BLOB, requester_nonce BLOB, wrapped_sha TEXT, status TEXT NOT NULL, abort_reason TEXT,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE INDEX key_relays_by_federation ON key_relays (federation_id, created_at);`,
];

/** A federation row is exactly what clinics are shown of it. */
export type FederationRow = FederationView;

export interface ClinicRow {
  id: string;
  federationId: string;
  name: string;
  holdsKey: boolean;
  publicKey: Uint8Array | null;
}

export interface RoundRow {
  federationId: string;
  round: number;
  status: RoundStatus;
  deadlineAt: string;
  aggregateSha: string | null;
  ciphertextCount: number | null;
}

export interface UploadRow {
  clinicId: string;
  clinicName: string;
  sha256: string;
  ciphertextCount: number;
}

export type AuditRow = AuditEntry;

export { sha256Hex };

const now = (): string => new Date().toISOString();

export class Store {
  readonly db: DatabaseSync;
  private readonly blobDir: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.blobDir = join(dataDir, 'blobs');
    mkdirSync(this.blobDir, { recursive: true });
    this.db = new DatabaseSync(join(dataDir, 'cipherpath.sqlite'));
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (!row) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    while (version < MIGRATIONS.length) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[version] as string);
        this.db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
      });
      version++;
    }
  }

  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // --- blobs -------------------------------------------------------------------------------------------------------

  putBlob(bytes: Uint8Array): string {
    const sha = sha256Hex(bytes);
    const path = join(this.blobDir, sha);
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return sha;
  }

  getBlob(sha: string): Uint8Array {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new Error(`invalid blob id ${sha}`);
    const bytes = readFileSync(join(this.blobDir, sha));
    if (sha256Hex(bytes) !== sha) throw new Error(`blob ${sha} is corrupt on disk`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  // --- federations, invites, clinics --------------------------------------------------------------------------------

  createFederation(f: Omit<FederationRow, 'currentRound'>): FederationRow {
    this.transaction(() => {
      this.db
        .prepare('INSERT INTO federations (id, name, preset_id, strategy, min_clinics, round_seconds, current_round, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)')
        .run(f.id, f.name, f.presetId, f.strategy, f.minClinics, f.roundSeconds, now());
      this.openRound(f.id, 1, f.roundSeconds);
    });
    return { ...f, currentRound: 1 };
  }

  private openRound(federationId: string, round: number, roundSeconds: number): void {
    const at = new Date();
    const deadline = new Date(at.getTime() + roundSeconds * 1000);
    this.db
      .prepare("INSERT INTO rounds (federation_id, round, status, opened_at, deadline_at) VALUES (?, ?, 'collecting', ?, ?)")
      .run(federationId, round, at.toISOString(), deadline.toISOString());
  }

  getFederation(id: string): FederationRow | undefined {
    const row = this.db.prepare('SELECT id, name, preset_id AS presetId, strategy, min_clinics AS minClinics, round_seconds AS roundSeconds, current_round AS currentRound FROM federations WHERE id = ?').get(id) as FederationRow | undefined;
    return row ? { ...row } : undefined;
  }

  listFederations(): FederationRow[] {
    return (
      this.db
        .prepare('SELECT id, name, preset_id AS presetId, strategy, min_clinics AS minClinics, round_seconds AS roundSeconds, current_round AS currentRound FROM federations ORDER BY created_at')
        .all() as unknown as FederationRow[]
    ).map((r) => ({ ...r }));
  }

  addInvite(federationId: string, code: string): void {
    this.db.prepare('INSERT INTO invites (code_hash, federation_id, created_at) VALUES (?, ?, ?)').run(sha256Hex(code), federationId, now());
  }

  /** Consumes a one-time invite and creates the clinic, atomically; undefined when the code is unknown or used. */
  redeemInvite(code: string, clinic: { id: string; name: string; tokenHash: string }): ClinicRow | undefined {
    return this.transaction(() => {
      const invite = this.db.prepare('SELECT federation_id AS federationId, used_by AS usedBy FROM invites WHERE code_hash = ?').get(sha256Hex(code)) as
        | { federationId: string; usedBy: string | null }
        | undefined;
      if (!invite || invite.usedBy !== null) return undefined;
      this.db
        .prepare('INSERT INTO clinics (id, federation_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(clinic.id, invite.federationId, clinic.name, clinic.tokenHash, now());
      this.db.prepare('UPDATE invites SET used_by = ? WHERE code_hash = ?').run(clinic.id, sha256Hex(code));
      return { id: clinic.id, federationId: invite.federationId, name: clinic.name, holdsKey: false, publicKey: null };
    });
  }

  private static clinic(row: Record<string, unknown> | undefined): ClinicRow | undefined {
    if (!row) return undefined;
    const key = row.publicKey as Uint8Array | null;
    return {
      id: row.id as string,
      federationId: row.federationId as string,
      name: row.name as string,
      holdsKey: row.holdsKey === 1,
      publicKey: key ? new Uint8Array(key) : null,
    };
  }

  clinicByTokenHash(tokenHash: string): ClinicRow | undefined {
    return Store.clinic(
      this.db
        .prepare('SELECT id, federation_id AS federationId, name, holds_key AS holdsKey, public_key AS publicKey FROM clinics WHERE token_hash = ?')
        .get(tokenHash) as Record<string, unknown> | undefined,
    );
  }

  getClinic(id: string): ClinicRow | undefined {
    return Store.clinic(
      this.db
        .prepare('SELECT id, federation_id AS federationId, name, holds_key AS holdsKey, public_key AS publicKey FROM clinics WHERE id = ?')
        .get(id) as Record<string, unknown> | undefined,
    );
  }

  clinicsOf(federationId: string): ClinicRow[] {
    return (
      this.db
        .prepare('SELECT id, federation_id AS federationId, name, holds_key AS holdsKey, public_key AS publicKey FROM clinics WHERE federation_id = ? ORDER BY created_at')
        .all(federationId) as Record<string, unknown>[]
    ).flatMap((r) => Store.clinic(r) ?? []);
  }

  setClinicPublicKey(clinicId: string, publicKey: Uint8Array): void {
    this.db.prepare('UPDATE clinics SET public_key = ? WHERE id = ?').run(publicKey, clinicId);
  }

  /** The founder becomes the first key holder; afterwards only a wrapped key delivered and accepted adds holders. */
  markKeyHolder(clinicId: string): void {
    this.db.prepare('UPDATE clinics SET holds_key = 1 WHERE id = ?').run(clinicId);
  }

  keyHolderCount(federationId: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM clinics WHERE federation_id = ? AND holds_key = 1').get(federationId) as { n: number }).n;
  }

  // --- evaluation keys ----------------------------------------------------------------------------

  putEvaluationKey(federationId: string, kind: string, sha256: string, uploadedBy: string): void {
    this.db
      .prepare(
        'INSERT INTO evaluation_keys (federation_id, kind, sha256, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(federation_id, kind) DO UPDATE SET sha256 = excluded.sha256, uploaded_by = excluded.uploaded_by, created_at = excluded.created_at',
      )
      .run(federationId, kind, sha256, uploadedBy, now());
  }

  evaluationKey(federationId: string, kind: string): string | undefined {
    const row = this.db.prepare('SELECT sha256 FROM evaluation_keys WHERE federation_id = ? AND kind = ?').get(federationId, kind) as { sha256: string } | undefined;
    return row?.sha256;
  }

  // --- rounds and uploads ------------------------------------------------------------------------------------------

  getRound(federationId: string, round: number): RoundRow | undefined {
    const row = this.db
      .prepare(
        'SELECT federation_id AS federationId, round, status, deadline_at AS deadlineAt, aggregate_sha AS aggregateSha, ciphertext_count AS ciphertextCount FROM rounds WHERE federation_id = ? AND round = ?',
      )
      .get(federationId, round) as RoundRow | undefined;
    return row ? { ...row } : undefined;
  }

  roundsWithStatus(status: RoundStatus): RoundRow[] {
    return (
      this.db
        .prepare(
          'SELECT federation_id AS federationId, round, status, deadline_at AS deadlineAt, aggregate_sha AS aggregateSha, ciphertext_count AS ciphertextCount FROM rounds WHERE status = ?',
        )
        .all(status) as unknown as RoundRow[]
    ).map((r) => ({ ...r }));
  }

  uploadsFor(federationId: string, round: number): UploadRow[] {
    return (
      this.db
        .prepare(
          `SELECT u.clinic_id AS clinicId, c.name AS clinicName, u.sha256, u.ciphertext_count AS ciphertextCount
           FROM uploads u JOIN clinics c ON c.id = u.clinic_id WHERE u.federation_id = ? AND u.round = ? ORDER BY u.created_at, u.clinic_id`,
        )
        .all(federationId, round) as unknown as UploadRow[]
    ).map((r) => ({ ...r }));
  }

  /** Records an upload; returns 'duplicate' for the same bytes again and 'conflict' for different bytes. */
  addUpload(u: { federationId: string; round: number; clinicId: string; sha256: string; bytes: number; ciphertextCount: number }): 'added' | 'duplicate' | 'conflict' {
    return this.transaction(() => {
      const existing = this.db
        .prepare('SELECT sha256 FROM uploads WHERE federation_id = ? AND round = ? AND clinic_id = ?')
        .get(u.federationId, u.round, u.clinicId) as { sha256: string } | undefined;
      if (existing) return existing.sha256 === u.sha256 ? 'duplicate' : 'conflict';
      this.db
        .prepare('INSERT INTO uploads (federation_id, round, clinic_id, sha256, bytes, ciphertext_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(u.federationId, u.round, u.clinicId, u.sha256, u.bytes, u.ciphertextCount, now());
      return 'added';
    });
  }

  setRoundStatus(federationId: string, round: number, status: RoundStatus): void {
    this.db.prepare('UPDATE rounds SET status = ? WHERE federation_id = ? AND round = ?').run(status, federationId, round);
  }

  /** Closes a round with its aggregate and opens the next one, in one transaction. */
  closeRound(federationId: string, round: number, aggregateSha: string, ciphertextCount: number): void {
    this.transaction(() => {
      const at = now();
      this.db
        .prepare("UPDATE rounds SET status = 'closed', closed_at = ?, aggregate_sha = ?, ciphertext_count = ? WHERE federation_id = ? AND round = ?")
        .run(at, aggregateSha, ciphertextCount, federationId, round);
      this.db.prepare('UPDATE federations SET current_round = ? WHERE id = ?').run(round + 1, federationId);
      const { roundSeconds } = this.db.prepare('SELECT round_seconds AS roundSeconds FROM federations WHERE id = ?').get(federationId) as { roundSeconds: number };
      this.openRound(federationId, round + 1, roundSeconds);
    });
  }

  putInferenceModel(federationId: string, sha256: string, uploadedBy: string): void {
    this.db
      .prepare(
        'INSERT INTO inference_models (federation_id, sha256, uploaded_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(federation_id) DO UPDATE SET sha256 = excluded.sha256, uploaded_by = excluded.uploaded_by, created_at = excluded.created_at',
      )
      .run(federationId, sha256, uploadedBy, now());
  }

  inferenceModel(federationId: string): string | undefined {
    const row = this.db.prepare('SELECT sha256 FROM inference_models WHERE federation_id = ?').get(federationId) as { sha256: string } | undefined;
    return row?.sha256;
  }

  // --- audit log (append-only, hash-chained) ---------------------------------------------------------------------

  audit(actor: string, action: string, detail: Record<string, unknown>): void {
    const last = this.db.prepare('SELECT hash FROM audit ORDER BY id DESC LIMIT 1').get() as { hash: string } | undefined;
    const prevHash = last?.hash ?? AUDIT_GENESIS_HASH;
    const at = now();
    const detailJson = JSON.stringify(detail);
    const hash = sha256Hex(auditHashInput({ prevHash, at, actor, action, detail: detailJson }));
    this.db.prepare('INSERT INTO audit (at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)').run(at, actor, action, detailJson, prevHash, hash);
  }

  auditLog(limit = 200): AuditRow[] {
    return (
      this.db
        .prepare('SELECT id, at, actor, action, detail, prev_hash AS prevHash, hash FROM audit ORDER BY id DESC LIMIT ?')
        .all(limit) as unknown as AuditRow[]
    ).map((r) => ({ ...r }));
  }
}
