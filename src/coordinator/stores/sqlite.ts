// The embedded Store: node:sqlite in WAL mode with synchronous=FULL (an acknowledged upload survives SIGKILL),
// numbered migrations, every round transition a compare-and-set inside BEGIN IMMEDIATE. The database file is 0600
// in a 0700 folder. A failing statement (disk full) rolls back only if SQLite has not already done so, so the
// client sees the real error, never "cannot rollback - no transaction is active".
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { sha256Hex } from '../../common/sha256.ts';
import { PRESETS } from '../../he/params.ts';
import { AUDIT_GENESIS_HASH, type AuditEntry, auditHashInput, type RoundStatus } from '../../protocol/api.ts';
import { StorageFull } from '../errors.ts';
import { SqliteKeyRelays } from './sqlite-key-relays.ts';
import { MIGRATIONS } from './sqlite-migrations.ts';
import { CLINIC_COLUMNS, clinic, FEDERATION_COLUMNS, federation, ROUND_COLUMNS, type Row, round } from './sqlite-rows.ts';
import type { ClinicRow, ClinicToken, FederationRow, NewFederation, NewUpload, RoundRow, Store, UploadOutcome, UploadRow } from './types.ts';

const now = (): string => new Date().toISOString();

function isDiskFull(e: unknown): boolean {
  const err = e as { errcode?: number; code?: string; message?: string };
  return err.errcode === 13 || err.code === 'ENOSPC' || /SQLITE_FULL|database or disk is full/i.test(err.message ?? '');
}

export class SqliteStore implements Store {
  readonly db: DatabaseSync;
  readonly keyRelays: SqliteKeyRelays;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const file = join(dataDir, 'cipherpath.sqlite');
    this.db = new DatabaseSync(file);
    chmodSync(file, 0o600);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.migrate();
    this.keyRelays = new SqliteKeyRelays(this.db, (fn) => this.tx(fn));
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (!row) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    while (version < MIGRATIONS.length) {
      const v = version;
      this.tx(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.prepare('UPDATE schema_version SET version = ?').run(v + 1);
      });
      version++;
    }
  }

  private tx<T>(fn: () => T): T {
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = fn();
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } catch (e) {
      if (isDiskFull(e)) throw new StorageFull(`the coordinator's database is out of disk space (${(e as Error).message}); nothing was stored`);
      throw e;
    }
  }

  private get(sql: string, ...args: SQLInputValue[]): Row | undefined {
    return this.db.prepare(sql).get(...args) as Row | undefined;
  }

  private all(sql: string, ...args: SQLInputValue[]): Row[] {
    return this.db.prepare(sql).all(...args) as Row[];
  }

  private run(sql: string, ...args: SQLInputValue[]): number {
    return Number(this.db.prepare(sql).run(...args).changes);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.get('SELECT value FROM meta WHERE key = ?', key)?.value as string | undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.tx(() => this.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value));
  }

  private appendAudit(actor: string, action: string, detail: Record<string, unknown>): void {
    const prevHash = (this.get('SELECT hash FROM audit ORDER BY id DESC LIMIT 1')?.hash as string | undefined) ?? AUDIT_GENESIS_HASH;
    const at = now();
    const detailJson = JSON.stringify(detail);
    const hash = sha256Hex(auditHashInput({ prevHash, at, actor, action, detail: detailJson }));
    this.run('INSERT INTO audit (at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)', at, actor, action, detailJson, prevHash, hash);
  }

  async audit(actor: string, action: string, detail: Record<string, unknown>): Promise<void> {
    this.tx(() => this.appendAudit(actor, action, detail));
  }

  async auditLog(limit = 200): Promise<AuditEntry[]> {
    return this.all('SELECT id, at, actor, action, detail, prev_hash AS prevHash, hash FROM audit ORDER BY id DESC LIMIT ?', limit).map((r) => ({ ...r }) as unknown as AuditEntry);
  }

  // --- federations, invites, clinics -------------------------------------------------------------------------------

  private openRound(federationId: string, roundNo: number): void {
    const f = this.get('SELECT preset_id AS presetId, round_seconds AS roundSeconds, ciphertext_count AS count, marker_slots AS markerSlots FROM federations WHERE id = ?', federationId) as {
      presetId: keyof typeof PRESETS;
      roundSeconds: number;
      count: number | null;
      markerSlots: number;
    };
    const at = new Date();
    this.run(
      "INSERT INTO rounds (federation_id, round, status, opened_at, deadline_at, spec_ciphertext_count, scale_bits, marker_slots) VALUES (?, ?, 'collecting', ?, ?, ?, ?, ?)",
      federationId,
      roundNo,
      at.toISOString(),
      new Date(at.getTime() + f.roundSeconds * 1000).toISOString(),
      f.count,
      PRESETS[f.presetId].scaleBits,
      f.markerSlots,
    );
    this.run('UPDATE federations SET current_round = ? WHERE id = ?', roundNo, federationId);
  }

  async createFederation(f: NewFederation, inviteCodes: readonly string[]): Promise<FederationRow> {
    return this.tx(() => {
      this.run(
        'INSERT INTO federations (id, name, preset_id, strategy, min_clinics, round_seconds, current_round, created_at, ciphertext_count, marker_slots, expires_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)',
        f.id, f.name, f.presetId, f.strategy, f.minClinics, f.roundSeconds, now(), f.ciphertextCount, f.markerSlots, f.expiresAt,
      );
      this.openRound(f.id, 1);
      for (const code of inviteCodes) this.run('INSERT INTO invites (code_hash, federation_id, created_at) VALUES (?, ?, ?)', sha256Hex(code), f.id, now());
      this.appendAudit('admin', 'federation.created', { federationId: f.id, name: f.name, invites: inviteCodes.length });
      return federation(this.get(`SELECT ${FEDERATION_COLUMNS} FROM federations WHERE id = ?`, f.id) as Row);
    });
  }

  async getFederation(id: string): Promise<FederationRow | undefined> {
    const r = this.get(`SELECT ${FEDERATION_COLUMNS} FROM federations WHERE id = ?`, id);
    return r ? federation(r) : undefined;
  }

  async listFederations(): Promise<FederationRow[]> {
    return this.all(`SELECT ${FEDERATION_COLUMNS} FROM federations ORDER BY created_at`).map(federation);
  }

  async addInvites(federationId: string, codes: readonly string[]): Promise<void> {
    this.tx(() => {
      for (const code of codes) this.run('INSERT INTO invites (code_hash, federation_id, created_at) VALUES (?, ?, ?)', sha256Hex(code), federationId, now());
    });
  }

  async liveDemoFederations(at: string): Promise<number> {
    return this.get('SELECT COUNT(*) AS n FROM federations WHERE expires_at IS NOT NULL AND expires_at > ?', at)?.n as number;
  }

  async deleteExpiredFederations(at: string): Promise<{ federations: string[]; blobs: string[] }> {
    return this.tx(() => {
      const ids = this.all('SELECT id FROM federations WHERE expires_at IS NOT NULL AND expires_at <= ?', at).map((r) => r.id as string);
      const blobs: string[] = [];
      for (const id of ids) {
        for (const table of ['uploads', 'evaluation_keys', 'inference_models']) blobs.push(...this.all(`SELECT sha256 FROM ${table} WHERE federation_id = ?`, id).map((r) => r.sha256 as string));
        blobs.push(...this.all('SELECT aggregate_sha AS s FROM rounds WHERE federation_id = ? AND aggregate_sha IS NOT NULL', id).map((r) => r.s as string));
        blobs.push(...this.all('SELECT wrapped_sha AS s FROM key_relays WHERE federation_id = ? AND wrapped_sha IS NOT NULL', id).map((r) => r.s as string));
        for (const table of ['uploads', 'evaluation_keys', 'inference_models', 'rounds', 'key_relays', 'invites']) this.run(`DELETE FROM ${table} WHERE federation_id = ?`, id);
        this.run('DELETE FROM clinics WHERE federation_id = ?', id);
        this.run('DELETE FROM federations WHERE id = ?', id);
        this.appendAudit('coordinator', 'federation.expired', { federationId: id });
      }
      return { federations: ids, blobs };
    });
  }

  async redeemInvite(code: string, c: { id: string; name: string } & ClinicToken): Promise<ClinicRow | undefined> {
    return this.tx(() => {
      const invite = this.get('SELECT federation_id AS federationId, used_by AS usedBy FROM invites WHERE code_hash = ?', sha256Hex(code));
      if (!invite || invite.usedBy !== null) return undefined;
      const federationId = invite.federationId as string;
      this.run('INSERT INTO clinics (id, federation_id, name, token_hash, token_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)', c.id, federationId, c.name, c.tokenHash, c.expiresAt, now());
      this.run('UPDATE invites SET used_by = ? WHERE code_hash = ?', c.id, sha256Hex(code));
      this.appendAudit(c.id, 'clinic.enrolled', { federationId, name: c.name });
      return { id: c.id, federationId, name: c.name, holdsKey: false, publicKey: null };
    });
  }

  async clinicByTokenHash(tokenHash: string, at: string): Promise<ClinicRow | undefined> {
    return clinic(this.get(`SELECT ${CLINIC_COLUMNS} FROM clinics WHERE token_hash = ? AND revoked = 0 AND token_expires_at > ?`, tokenHash, at));
  }

  async getClinic(id: string): Promise<ClinicRow | undefined> {
    return clinic(this.get(`SELECT ${CLINIC_COLUMNS} FROM clinics WHERE id = ?`, id));
  }

  async clinicsOf(federationId: string): Promise<ClinicRow[]> {
    return this.all(`SELECT ${CLINIC_COLUMNS} FROM clinics WHERE federation_id = ? AND revoked = 0 ORDER BY created_at`, federationId).flatMap((r) => clinic(r) ?? []);
  }

  async setClinicToken(clinicId: string, token: ClinicToken): Promise<boolean> {
    return this.tx(() => this.run('UPDATE clinics SET token_hash = ?, token_expires_at = ? WHERE id = ? AND revoked = 0', token.tokenHash, token.expiresAt, clinicId) === 1);
  }

  async revokeClinic(clinicId: string): Promise<boolean> {
    return this.tx(() => this.run('UPDATE clinics SET revoked = 1, holds_key = 0 WHERE id = ? AND revoked = 0', clinicId) === 1);
  }

  async setClinicPublicKey(clinicId: string, publicKey: Uint8Array): Promise<void> {
    this.tx(() => this.run('UPDATE clinics SET public_key = ? WHERE id = ?', publicKey, clinicId));
  }

  // --- key custody ---------------------------------------------------------------------------------------------------

  async claimFounder(federationId: string, clinicId: string): Promise<boolean> {
    return this.tx(() => {
      if ((this.get('SELECT COUNT(*) AS n FROM clinics WHERE federation_id = ? AND holds_key = 1', federationId)?.n as number) > 0) return false;
      this.run('UPDATE clinics SET holds_key = 1 WHERE id = ?', clinicId);
      return true;
    });
  }

  async markKeyHolder(clinicId: string): Promise<void> {
    this.tx(() => this.run('UPDATE clinics SET holds_key = 1 WHERE id = ?', clinicId));
  }

  async keyHolderCount(federationId: string): Promise<number> {
    return this.get('SELECT COUNT(*) AS n FROM clinics WHERE federation_id = ? AND holds_key = 1 AND revoked = 0', federationId)?.n as number;
  }

  private upsertKeyed(table: 'evaluation_keys' | 'inference_models', keys: Record<string, string>, sha256: string, uploadedBy: string): void {
    const cols = Object.keys(keys);
    this.run(
      `INSERT INTO ${table} (${cols.join(', ')}, sha256, uploaded_by, created_at) VALUES (${cols.map(() => '?').join(', ')}, ?, ?, ?)
       ON CONFLICT(${cols.join(', ')}) DO UPDATE SET sha256 = excluded.sha256, uploaded_by = excluded.uploaded_by, created_at = excluded.created_at`,
      ...Object.values(keys), sha256, uploadedBy, now(),
    );
  }

  async putEvaluationKey(federationId: string, kind: string, sha256: string, uploadedBy: string): Promise<void> {
    this.tx(() => this.upsertKeyed('evaluation_keys', { federation_id: federationId, kind }, sha256, uploadedBy));
  }

  async evaluationKey(federationId: string, kind: string): Promise<string | undefined> {
    return this.get('SELECT sha256 FROM evaluation_keys WHERE federation_id = ? AND kind = ?', federationId, kind)?.sha256 as string | undefined;
  }

  async putInferenceModel(federationId: string, sha256: string, uploadedBy: string): Promise<void> {
    this.tx(() => this.upsertKeyed('inference_models', { federation_id: federationId }, sha256, uploadedBy));
  }

  async inferenceModel(federationId: string): Promise<string | undefined> {
    return this.get('SELECT sha256 FROM inference_models WHERE federation_id = ?', federationId)?.sha256 as string | undefined;
  }

  // --- rounds and uploads ----------------------------------------------------------------------------------------

  private roundRow(federationId: string, roundNo: number): RoundRow | undefined {
    const presetId = this.get('SELECT preset_id AS p FROM federations WHERE id = ?', federationId)?.p as string | undefined;
    return presetId ? round(this.get(`SELECT ${ROUND_COLUMNS} FROM rounds WHERE federation_id = ? AND round = ?`, federationId, roundNo), presetId) : undefined;
  }

  async getRound(federationId: string, roundNo: number): Promise<RoundRow | undefined> {
    return this.roundRow(federationId, roundNo);
  }

  async roundsWithStatus(status: RoundStatus): Promise<RoundRow[]> {
    return this.all(`SELECT ${ROUND_COLUMNS.replace(/(^|, )(\w+)/g, '$1r.$2')}, f.preset_id AS presetId FROM rounds r JOIN federations f ON f.id = r.federation_id WHERE r.status = ?`, status).flatMap(
      (r) => round(r, r.presetId as string) ?? [],
    );
  }

  async uploadsFor(federationId: string, roundNo: number): Promise<UploadRow[]> {
    return this.all(
      `SELECT u.clinic_id AS clinicId, c.name AS clinicName, u.sha256, u.ciphertext_count AS ciphertextCount, u.quarantined
       FROM uploads u JOIN clinics c ON c.id = u.clinic_id WHERE u.federation_id = ? AND u.round = ? ORDER BY u.created_at, u.clinic_id`,
      federationId,
      roundNo,
    ).map((r) => ({ ...r, quarantined: (r.quarantined as string | null) ?? null }) as UploadRow);
  }

  async recordUpload(u: NewUpload): Promise<UploadOutcome> {
    return this.tx((): UploadOutcome => {
      const existing = this.get('SELECT sha256 FROM uploads WHERE federation_id = ? AND round = ? AND clinic_id = ?', u.federationId, u.round, u.clinicId);
      if (existing) return { kind: existing.sha256 === u.sha256 ? 'duplicate' : 'conflict' };
      const state = this.roundRow(u.federationId, u.round);
      if (!state || state.status !== 'collecting') {
        const currentRound = this.get('SELECT current_round AS r FROM federations WHERE id = ?', u.federationId)?.r as number;
        return { kind: 'not-collecting', status: state?.status ?? 'not open', currentRound };
      }
      const expected = state.spec.ciphertextCount;
      if (expected !== null && expected !== u.ciphertextCount) {
        return { kind: 'shape-mismatch', message: `round ${u.round} takes ${expected} ciphertext(s) per upload; this upload has ${u.ciphertextCount}` };
      }
      if (expected === null) this.run('UPDATE rounds SET spec_ciphertext_count = ? WHERE federation_id = ? AND round = ?', u.ciphertextCount, u.federationId, u.round);
      this.run(
        'INSERT INTO uploads (federation_id, round, clinic_id, sha256, bytes, ciphertext_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        u.federationId, u.round, u.clinicId, u.sha256, u.bytes, u.ciphertextCount, now(),
      );
      this.appendAudit(u.clinicId, 'upload.accepted', { federationId: u.federationId, round: u.round, sha256: u.sha256, bytes: u.bytes });
      return { kind: 'created' };
    });
  }

  async tryClose(federationId: string, roundNo: number): Promise<boolean> {
    return this.tx(() => this.run("UPDATE rounds SET status = 'aggregating' WHERE federation_id = ? AND round = ? AND status = 'collecting'", federationId, roundNo) === 1);
  }

  async completeAggregation(federationId: string, roundNo: number, result: { aggregateSha: string; ciphertextCount: number; clinics: number }): Promise<boolean> {
    return this.tx(() => {
      const changed = this.run(
        "UPDATE rounds SET status = 'closed', closed_at = ?, aggregate_sha = ?, ciphertext_count = ? WHERE federation_id = ? AND round = ? AND status = 'aggregating'",
        now(), result.aggregateSha, result.ciphertextCount, federationId, roundNo,
      );
      if (changed !== 1) return false;
      this.openRound(federationId, roundNo + 1);
      this.appendAudit('coordinator', 'round.closed', { federationId, round: roundNo, clinics: result.clinics, aggregateSha: result.aggregateSha });
      return true;
    });
  }

  async failRound(federationId: string, roundNo: number, reason: string): Promise<boolean> {
    return this.tx(() => {
      const changed = this.run("UPDATE rounds SET status = 'failed', closed_at = ?, failure = ? WHERE federation_id = ? AND round = ? AND status = 'aggregating'", now(), reason, federationId, roundNo);
      if (changed !== 1) return false;
      this.openRound(federationId, roundNo + 1);
      this.appendAudit('coordinator', 'round.failed', { federationId, round: roundNo, reason });
      return true;
    });
  }

  async quarantine(federationId: string, roundNo: number, clinicId: string, reason: string): Promise<void> {
    this.tx(() => {
      this.run('UPDATE uploads SET quarantined = ? WHERE federation_id = ? AND round = ? AND clinic_id = ?', reason, federationId, roundNo, clinicId);
      this.appendAudit('coordinator', 'upload.quarantined', { federationId, round: roundNo, clinicId, reason });
    });
  }

  async resetRound(federationId: string, roundNo: number): Promise<boolean> {
    return this.tx(() => {
      const f = this.get('SELECT round_seconds AS s, ciphertext_count AS c FROM federations WHERE id = ?', federationId);
      if (!f) return false;
      const deadline = new Date(Date.now() + (f.s as number) * 1000).toISOString();
      const changed = this.run(
        "UPDATE rounds SET status = 'collecting', deadline_at = ?, spec_ciphertext_count = ?, failure = NULL WHERE federation_id = ? AND round = ? AND status IN ('collecting', 'aggregating')",
        deadline, f.c as number | null, federationId, roundNo,
      );
      if (changed !== 1) return false;
      this.run('DELETE FROM uploads WHERE federation_id = ? AND round = ?', federationId, roundNo);
      this.appendAudit('admin', 'round.reset', { federationId, round: roundNo });
      return true;
    });
  }

  async referencedBlobs(): Promise<Set<string>> {
    const rows = this.all(
      `SELECT sha256 AS s FROM uploads WHERE released = 0 UNION SELECT aggregate_sha FROM rounds WHERE aggregate_sha IS NOT NULL
       UNION SELECT wrapped_sha FROM key_relays WHERE wrapped_sha IS NOT NULL UNION SELECT sha256 FROM evaluation_keys UNION SELECT sha256 FROM inference_models`,
    );
    return new Set(rows.map((r) => r.s as string));
  }

  async releaseClosedUploads(): Promise<string[]> {
    return this.tx(() => {
      const where = "released = 0 AND EXISTS (SELECT 1 FROM rounds r WHERE r.federation_id = uploads.federation_id AND r.round = uploads.round AND r.status IN ('closed', 'failed'))";
      const shas = this.all(`SELECT sha256 FROM uploads WHERE ${where}`).map((r) => r.sha256 as string);
      this.run(`UPDATE uploads SET released = 1 WHERE ${where}`);
      return shas;
    });
  }
}
