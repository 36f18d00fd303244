// The Store on any SqlDriver: node:sqlite embedded (default) or Postgres (DATABASE_URL). Every round transition is
// a compare-and-set on the round's status inside one transaction, so two requests, or two replicas, racing on a
// round cannot both win, and an acknowledged upload is always in the round it names. The jobs a transition calls for
// (a deadline, an aggregation, retention) are written in its transaction through RoundEvents; deadlines are set and
// judged by the database's clock.
import { sha256Hex } from '../../common/sha256.ts';
import { AUDIT_GENESIS_HASH, type AuditEntry, auditHashInput, type RoundStatus } from '../../protocol/api.ts';
import type { Row, SqlDriver, SqlQueries } from './sql-driver.ts';
import { SqlKeyRelays } from './sql-key-relays.ts';
import { CLINIC_COLUMNS, clinic, FEDERATION_COLUMNS, federation, ROUND_COLUMNS, round } from './sql-rows.ts';
import type { ClinicRow, ClinicToken, FederationRow, NewFederation, NewUpload, RoundEvents, RoundKey, RoundRow, Store, UploadOutcome, UploadRow } from './types.ts';

const now = (): string => new Date().toISOString();
const count = async (q: SqlQueries, sql: string, ...args: string[]): Promise<number> => Number((await q.get(sql, ...args))?.n ?? 0);

export class SqlStore implements Store {
  readonly db: SqlDriver;
  readonly keyRelays: SqlKeyRelays;
  private events: RoundEvents | undefined;

  constructor(db: SqlDriver) {
    this.db = db;
    this.keyRelays = new SqlKeyRelays(db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.db.get('SELECT value FROM meta WHERE key = ?', key))?.value as string | undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  private async appendAudit(q: SqlQueries, actor: string, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.db.lockAuditChain(q);
    const prevHash = ((await q.get('SELECT hash FROM audit ORDER BY id DESC LIMIT 1'))?.hash as string | undefined) ?? AUDIT_GENESIS_HASH;
    const at = now();
    const detailJson = JSON.stringify(detail);
    const hash = sha256Hex(auditHashInput({ prevHash, at, actor, action, detail: detailJson }));
    await q.run('INSERT INTO audit (at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)', at, actor, action, detailJson, prevHash, hash);
  }

  async audit(actor: string, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.db.tx((q) => this.appendAudit(q, actor, action, detail));
  }

  async auditLog(limit = 200): Promise<AuditEntry[]> {
    const rows = await this.db.all('SELECT id, at, actor, action, detail, prev_hash AS "prevHash", hash FROM audit ORDER BY id DESC LIMIT ?', limit);
    return rows.map((r) => ({ ...r }) as unknown as AuditEntry);
  }

  // --- federations, invites, clinics -------------------------------------------------------------------------------

  setRoundEvents(events: RoundEvents): void {
    this.events = events;
  }

  /** Tells the queue of a round's (new) deadline, read back as the database wrote it. */
  private async opened(q: SqlQueries, federationId: string, roundNo: number): Promise<void> {
    const deadlineAt = (await q.get('SELECT deadline_at AS d FROM rounds WHERE federation_id = ? AND round = ?', federationId, roundNo))?.d as string;
    await this.events?.opened({ federationId, round: roundNo, deadlineAt }, q.native);
  }

  private async openRound(q: SqlQueries, federationId: string, roundNo: number): Promise<void> {
    const f = (await q.get('SELECT round_seconds AS "roundSeconds", ciphertext_count AS "count", scale_bits AS "scaleBits", marker_slots AS "markerSlots" FROM federations WHERE id = ?', federationId)) as {
      roundSeconds: number;
      count: number | null;
      scaleBits: number | null;
      markerSlots: number;
    };
    const { inSeconds } = this.db.clock;
    await q.run(
      `INSERT INTO rounds (federation_id, round, status, opened_at, deadline_at, spec_ciphertext_count, scale_bits, marker_slots) VALUES (?, ?, 'collecting', ${inSeconds}, ${inSeconds}, ?, ?, ?)`,
      federationId, roundNo, 0, f.roundSeconds, f.count, f.scaleBits, f.markerSlots,
    );
    await q.run('UPDATE federations SET current_round = ? WHERE id = ?', roundNo, federationId);
    await this.opened(q, federationId, roundNo);
  }

  async createFederation(f: NewFederation, inviteCodes: readonly string[]): Promise<FederationRow> {
    return this.db.tx(async (q) => {
      await q.run(
        'INSERT INTO federations (id, name, preset_id, strategy, min_clinics, round_seconds, current_round, created_at, ciphertext_count, scale_bits, marker_slots, expires_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)',
        f.id, f.name, f.presetId, f.strategy, f.minClinics, f.roundSeconds, now(), f.ciphertextCount, f.scaleBits, f.markerSlots, f.expiresAt,
      );
      await this.openRound(q, f.id, 1);
      for (const code of inviteCodes) await q.run('INSERT INTO invites (code_hash, federation_id, created_at) VALUES (?, ?, ?)', sha256Hex(code), f.id, now());
      await this.appendAudit(q, 'admin', 'federation.created', { federationId: f.id, name: f.name, invites: inviteCodes.length });
      return federation((await q.get(`SELECT ${FEDERATION_COLUMNS} FROM federations WHERE id = ?`, f.id)) as Row);
    });
  }

  async getFederation(id: string): Promise<FederationRow | undefined> {
    const r = await this.db.get(`SELECT ${FEDERATION_COLUMNS} FROM federations WHERE id = ?`, id);
    return r ? federation(r) : undefined;
  }

  async listFederations(): Promise<FederationRow[]> {
    return (await this.db.all(`SELECT ${FEDERATION_COLUMNS} FROM federations ORDER BY created_at`)).map(federation);
  }

  async addInvites(federationId: string, codes: readonly string[]): Promise<void> {
    await this.db.tx(async (q) => {
      for (const code of codes) await q.run('INSERT INTO invites (code_hash, federation_id, created_at) VALUES (?, ?, ?)', sha256Hex(code), federationId, now());
    });
  }

  async liveDemoFederations(at: string): Promise<number> {
    return count(this.db, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM federations WHERE expires_at IS NOT NULL AND expires_at > ?', at);
  }

  async deleteExpiredFederations(at: string): Promise<{ federations: string[]; blobs: string[] }> {
    return this.db.tx(async (q) => {
      const ids = (await q.all('SELECT id FROM federations WHERE expires_at IS NOT NULL AND expires_at <= ?', at)).map((r) => r.id as string);
      const blobs: string[] = [];
      const shas = async (sql: string, id: string) => (await q.all(sql, id)).map((r) => r.s as string);
      for (const id of ids) {
        for (const table of ['uploads', 'evaluation_keys', 'inference_models']) blobs.push(...(await shas(`SELECT sha256 AS s FROM ${table} WHERE federation_id = ?`, id)));
        blobs.push(...(await shas('SELECT aggregate_sha AS s FROM rounds WHERE federation_id = ? AND aggregate_sha IS NOT NULL', id)));
        blobs.push(...(await shas('SELECT wrapped_sha AS s FROM key_relays WHERE federation_id = ? AND wrapped_sha IS NOT NULL', id)));
        for (const table of ['uploads', 'evaluation_keys', 'inference_models', 'rounds', 'key_relays', 'invites', 'clinics']) await q.run(`DELETE FROM ${table} WHERE federation_id = ?`, id);
        await q.run('DELETE FROM federations WHERE id = ?', id);
        await this.appendAudit(q, 'coordinator', 'federation.expired', { federationId: id });
      }
      return { federations: ids, blobs };
    });
  }

  async redeemInvite(code: string, c: { id: string; name: string } & ClinicToken): Promise<ClinicRow | undefined> {
    return this.db.tx(async (q) => {
      const invite = await q.get(`SELECT federation_id AS "federationId", used_by AS "usedBy" FROM invites WHERE code_hash = ?${this.forUpdate}`, sha256Hex(code));
      if (!invite || invite.usedBy !== null) return undefined;
      const federationId = invite.federationId as string;
      await q.run('INSERT INTO clinics (id, federation_id, name, token_hash, token_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)', c.id, federationId, c.name, c.tokenHash, c.expiresAt, now());
      await q.run('UPDATE invites SET used_by = ? WHERE code_hash = ?', c.id, sha256Hex(code));
      await this.appendAudit(q, c.id, 'clinic.enrolled', { federationId, name: c.name });
      return { id: c.id, federationId, name: c.name, holdsKey: false, publicKey: null };
    });
  }

  private get forUpdate(): string {
    return this.db.rowLocks ? ' FOR UPDATE' : '';
  }

  async clinicByTokenHash(tokenHash: string, at: string): Promise<ClinicRow | undefined> {
    return clinic(await this.db.get(`SELECT ${CLINIC_COLUMNS} FROM clinics WHERE token_hash = ? AND revoked = 0 AND token_expires_at > ?`, tokenHash, at));
  }

  async getClinic(id: string): Promise<ClinicRow | undefined> {
    return clinic(await this.db.get(`SELECT ${CLINIC_COLUMNS} FROM clinics WHERE id = ?`, id));
  }

  async clinicsOf(federationId: string): Promise<ClinicRow[]> {
    return (await this.db.all(`SELECT ${CLINIC_COLUMNS} FROM clinics WHERE federation_id = ? AND revoked = 0 ORDER BY created_at`, federationId)).flatMap((r) => clinic(r) ?? []);
  }

  async setClinicToken(clinicId: string, token: ClinicToken): Promise<boolean> {
    return (await this.db.run('UPDATE clinics SET token_hash = ?, token_expires_at = ? WHERE id = ? AND revoked = 0', token.tokenHash, token.expiresAt, clinicId)) === 1;
  }

  async revokeClinic(clinicId: string): Promise<boolean> {
    return (await this.db.run('UPDATE clinics SET revoked = 1, holds_key = 0 WHERE id = ? AND revoked = 0', clinicId)) === 1;
  }

  async setClinicPublicKey(clinicId: string, publicKey: Uint8Array): Promise<void> {
    await this.db.run('UPDATE clinics SET public_key = ? WHERE id = ?', publicKey, clinicId);
  }

  // --- key custody ---------------------------------------------------------------------------------------------------

  async claimFounder(federationId: string, clinicId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.get(`SELECT id FROM federations WHERE id = ?${this.forUpdate}`, federationId);
      if ((await count(q, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM clinics WHERE federation_id = ? AND holds_key = 1', federationId)) > 0) return false;
      await q.run('UPDATE clinics SET holds_key = 1 WHERE id = ?', clinicId);
      return true;
    });
  }

  async markKeyHolder(clinicId: string): Promise<void> {
    await this.db.run('UPDATE clinics SET holds_key = 1 WHERE id = ?', clinicId);
  }

  async keyHolderCount(federationId: string): Promise<number> {
    return count(this.db, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM clinics WHERE federation_id = ? AND holds_key = 1 AND revoked = 0', federationId);
  }

  private async upsertKeyed(table: 'evaluation_keys' | 'inference_models', keys: Record<string, string>, sha256: string, uploadedBy: string): Promise<void> {
    const cols = Object.keys(keys);
    await this.db.run(
      `INSERT INTO ${table} (${cols.join(', ')}, sha256, uploaded_by, created_at) VALUES (${cols.map(() => '?').join(', ')}, ?, ?, ?)
       ON CONFLICT(${cols.join(', ')}) DO UPDATE SET sha256 = excluded.sha256, uploaded_by = excluded.uploaded_by, created_at = excluded.created_at`,
      ...Object.values(keys), sha256, uploadedBy, now(),
    );
  }

  async putEvaluationKey(federationId: string, kind: string, sha256: string, uploadedBy: string): Promise<void> {
    await this.upsertKeyed('evaluation_keys', { federation_id: federationId, kind }, sha256, uploadedBy);
  }

  async evaluationKey(federationId: string, kind: string): Promise<string | undefined> {
    return (await this.db.get('SELECT sha256 FROM evaluation_keys WHERE federation_id = ? AND kind = ?', federationId, kind))?.sha256 as string | undefined;
  }

  async putInferenceModel(federationId: string, sha256: string, uploadedBy: string): Promise<void> {
    await this.upsertKeyed('inference_models', { federation_id: federationId }, sha256, uploadedBy);
  }

  async inferenceModel(federationId: string): Promise<string | undefined> {
    return (await this.db.get('SELECT sha256 FROM inference_models WHERE federation_id = ?', federationId))?.sha256 as string | undefined;
  }

  // --- rounds and uploads ----------------------------------------------------------------------------------------

  private async roundRow(q: SqlQueries, federationId: string, roundNo: number, lock = false): Promise<RoundRow | undefined> {
    const presetId = (await q.get('SELECT preset_id AS p FROM federations WHERE id = ?', federationId))?.p as string | undefined;
    if (!presetId) return undefined;
    return round(await q.get(`SELECT ${ROUND_COLUMNS} FROM rounds WHERE federation_id = ? AND round = ?${lock ? this.forUpdate : ''}`, federationId, roundNo), presetId);
  }

  async getRound(federationId: string, roundNo: number): Promise<RoundRow | undefined> {
    return this.roundRow(this.db, federationId, roundNo);
  }

  async dueRounds(only?: RoundKey): Promise<RoundKey[]> {
    const usable = "(SELECT COUNT(*) FROM uploads u WHERE u.federation_id = r.federation_id AND u.round = r.round AND u.quarantined IS NULL)";
    const enrolled = '(SELECT COUNT(*) FROM clinics c WHERE c.federation_id = r.federation_id AND c.revoked = 0)';
    const rows = await this.db.all(
      `SELECT r.federation_id AS "federationId", r.round FROM rounds r JOIN federations f ON f.id = r.federation_id
       WHERE r.status = 'collecting' AND ${usable} >= f.min_clinics AND (${this.db.clock.reached('r.deadline_at')} OR ${usable} >= ${enrolled})${only ? ' AND r.federation_id = ? AND r.round = ?' : ''}`,
      ...(only ? [only.federationId, only.round] : []),
    );
    return rows.map((r) => ({ federationId: r.federationId as string, round: r.round as number }));
  }

  async roundsWithStatus(status: RoundStatus): Promise<RoundRow[]> {
    const rows = await this.db.all(`SELECT ${ROUND_COLUMNS.replace(/(^|, )(\w+)/g, '$1r.$2')}, f.preset_id AS "presetId" FROM rounds r JOIN federations f ON f.id = r.federation_id WHERE r.status = ?`, status);
    return rows.flatMap((r) => round(r, r.presetId as string) ?? []);
  }

  async uploadsFor(federationId: string, roundNo: number): Promise<UploadRow[]> {
    const rows = await this.db.all(
      `SELECT u.clinic_id AS "clinicId", c.name AS "clinicName", u.sha256, u.ciphertext_count AS "ciphertextCount", u.quarantined
       FROM uploads u JOIN clinics c ON c.id = u.clinic_id WHERE u.federation_id = ? AND u.round = ? ORDER BY u.created_at, u.clinic_id`,
      federationId,
      roundNo,
    );
    return rows.map((r) => ({ ...r, quarantined: (r.quarantined as string | null) ?? null }) as UploadRow);
  }

  async recordUpload(u: NewUpload): Promise<UploadOutcome> {
    return this.db.tx(async (q): Promise<UploadOutcome> => {
      // The round row is locked first, so the status read here is the one the close transition will see.
      const state = await this.roundRow(q, u.federationId, u.round, true);
      const existing = await q.get('SELECT sha256 FROM uploads WHERE federation_id = ? AND round = ? AND clinic_id = ?', u.federationId, u.round, u.clinicId);
      if (existing) return { kind: existing.sha256 === u.sha256 ? 'duplicate' : 'conflict' };
      if (!state || state.status !== 'collecting') {
        const currentRound = (await q.get('SELECT current_round AS r FROM federations WHERE id = ?', u.federationId))?.r as number;
        return { kind: 'not-collecting', status: state?.status ?? 'not open', currentRound };
      }
      const expected = state.spec.ciphertextCount;
      if (expected !== null && expected !== u.ciphertextCount) {
        return { kind: 'shape-mismatch', message: `round ${u.round} takes ${expected} ciphertext(s) per upload; this upload has ${u.ciphertextCount}` };
      }
      await q.run(
        'INSERT INTO uploads (federation_id, round, clinic_id, sha256, bytes, ciphertext_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        u.federationId, u.round, u.clinicId, u.sha256, u.bytes, u.ciphertextCount, now(),
      );
      await this.appendAudit(q, u.clinicId, 'upload.accepted', { federationId: u.federationId, round: u.round, sha256: u.sha256, bytes: u.bytes });
      return { kind: 'created' };
    });
  }

  async tryClose(federationId: string, roundNo: number): Promise<boolean> {
    return this.db.tx(async (q) => {
      if ((await q.run("UPDATE rounds SET status = 'aggregating' WHERE federation_id = ? AND round = ? AND status = 'collecting'", federationId, roundNo)) !== 1) return false;
      await this.events?.closing({ federationId, round: roundNo }, q.native);
      return true;
    });
  }

  async completeAggregation(federationId: string, roundNo: number, result: { aggregateSha: string; ciphertextCount: number; clinics: number }): Promise<boolean> {
    return this.db.tx(async (q) => {
      const changed = await q.run(
        "UPDATE rounds SET status = 'closed', closed_at = ?, aggregate_sha = ?, ciphertext_count = ? WHERE federation_id = ? AND round = ? AND status = 'aggregating'",
        now(), result.aggregateSha, result.ciphertextCount, federationId, roundNo,
      );
      if (changed !== 1) return false;
      await this.openRound(q, federationId, roundNo + 1);
      await this.appendAudit(q, 'coordinator', 'round.closed', { federationId, round: roundNo, clinics: result.clinics, aggregateSha: result.aggregateSha });
      await this.events?.closed({ federationId, round: roundNo }, q.native);
      return true;
    });
  }

  async failRound(federationId: string, roundNo: number, reason: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const changed = await q.run("UPDATE rounds SET status = 'failed', closed_at = ?, failure = ? WHERE federation_id = ? AND round = ? AND status = 'aggregating'", now(), reason, federationId, roundNo);
      if (changed !== 1) return false;
      await this.openRound(q, federationId, roundNo + 1);
      await this.appendAudit(q, 'coordinator', 'round.failed', { federationId, round: roundNo, reason });
      return true;
    });
  }

  async quarantine(federationId: string, roundNo: number, clinicId: string, reason: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      // Only while the round aggregates: a replica that lost the close (its blob reads fail once the winner's retention
      // has run) must not rewrite a closed round's roster, which clinics verify their aggregate against.
      const changed = await q.run(
        "UPDATE uploads SET quarantined = ? WHERE federation_id = ? AND round = ? AND clinic_id = ? AND EXISTS (SELECT 1 FROM rounds WHERE federation_id = ? AND round = ? AND status = 'aggregating')",
        reason, federationId, roundNo, clinicId, federationId, roundNo,
      );
      if (changed !== 1) return false;
      await this.appendAudit(q, 'coordinator', 'upload.quarantined', { federationId, round: roundNo, clinicId, reason });
      return true;
    });
  }

  async resetRound(federationId: string, roundNo: number): Promise<boolean> {
    return this.db.tx(async (q) => {
      const f = await q.get('SELECT round_seconds AS s, ciphertext_count AS c FROM federations WHERE id = ?', federationId);
      if (!f) return false;
      const changed = await q.run(
        `UPDATE rounds SET status = 'collecting', deadline_at = ${this.db.clock.inSeconds}, spec_ciphertext_count = ?, failure = NULL WHERE federation_id = ? AND round = ? AND status IN ('collecting', 'aggregating')`,
        f.s as number, f.c as number | null, federationId, roundNo,
      );
      if (changed !== 1) return false;
      await q.run('DELETE FROM uploads WHERE federation_id = ? AND round = ?', federationId, roundNo);
      await this.appendAudit(q, 'admin', 'round.reset', { federationId, round: roundNo });
      await this.opened(q, federationId, roundNo);
      return true;
    });
  }

  async referencedBlobs(): Promise<Set<string>> {
    const rows = await this.db.all(
      `SELECT sha256 AS s FROM uploads WHERE released = 0 UNION SELECT aggregate_sha FROM rounds WHERE aggregate_sha IS NOT NULL
       UNION SELECT wrapped_sha FROM key_relays WHERE wrapped_sha IS NOT NULL UNION SELECT sha256 FROM evaluation_keys UNION SELECT sha256 FROM inference_models`,
    );
    return new Set(rows.map((r) => r.s as string));
  }

  async releaseClosedUploads(): Promise<string[]> {
    return this.db.tx(async (q) => {
      const where = "released = 0 AND EXISTS (SELECT 1 FROM rounds r WHERE r.federation_id = uploads.federation_id AND r.round = uploads.round AND r.status IN ('closed', 'failed'))";
      const shas = (await q.all(`SELECT sha256 FROM uploads WHERE ${where}`)).map((r) => r.sha256 as string);
      await q.run(`UPDATE uploads SET released = 1 WHERE ${where}`);
      return shas;
    });
  }
}
