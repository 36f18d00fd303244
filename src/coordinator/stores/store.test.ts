// The Store contract, run on node:sqlite (unit project) and on Postgres (postgres project, DATABASE_URL set by its
// setup file). Two store instances on the same database stand for two replicas racing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../common/sha256.ts';
import { auditHashInput } from '../../protocol/api.ts';
import { PostgresDriver } from './postgres-driver.ts';
import { SqlStore } from './sql-store.ts';
import { SqliteStore } from './sqlite.ts';
import type { NewFederation, Store } from './types.ts';

const open: Store[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const engine = process.env.DATABASE_URL ? 'postgres' : 'sqlite';

/** Two stores on one fresh database: on Postgres two pools, as two replicas would have; the embedded store is one
 * process with one connection (node:sqlite is synchronous: a second connection in the same process would block the
 * event loop on the first one's write lock), so there the "replicas" are concurrent callers of one store. */
async function twoReplicas(): Promise<[Store, Store]> {
  let pair: [Store, Store];
  if (process.env.DATABASE_URL) {
    const { createTestDatabase } = await import('./postgres-cluster.ts');
    const url = await createTestDatabase(process.env.CIPHERPATH_TEST_PG_CLUSTER as string);
    pair = [new SqlStore(await PostgresDriver.open(url)), new SqlStore(await PostgresDriver.open(url))];
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'cipherpath-store-'));
    dirs.push(dir);
    const store = new SqliteStore(dir);
    pair = [store, store];
  }
  open.push(...new Set(pair));
  return pair;
}

const FED: NewFederation = { id: 'fed-a', name: 'A', presetId: 'agg-v1', strategy: 'sum', minClinics: 2, roundSeconds: 60, ciphertextCount: null, scaleBits: null, markerSlots: 0, expiresAt: null };
const FOREVER = '9999-01-01T00:00:00.000Z';

describe(`store contract on ${engine}`, () => {
  it('an invite is redeemed once even when two replicas race for it', async () => {
    const [a, b] = await twoReplicas();
    await a.createFederation(FED, ['AAAA-BBBB-CCCC']);
    const tries = await Promise.all([a, b, a, b].map((s, i) => s.redeemInvite('AAAA-BBBB-CCCC', { id: `cl-${i}`, name: `C${i}`, tokenHash: sha256Hex(`t${i}`), expiresAt: FOREVER })));
    expect(tries.filter(Boolean)).toHaveLength(1);
    expect(await b.clinicsOf('fed-a')).toHaveLength(1);
  });

  it('uploads are created, duplicate or conflict by content hash across replicas, and a round closes exactly once', async () => {
    const [a, b] = await twoReplicas();
    await a.createFederation({ ...FED, ciphertextCount: 1, scaleBits: 30 }, ['AAAA-BBBB-CCCC', 'DDDD-EEEE-FFFF']);
    expect((await b.getRound('fed-a', 1))?.spec).toEqual({ presetId: 'agg-v1', ciphertextCount: 1, scaleBits: 30, markerSlots: 0 });
    await a.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('t1'), expiresAt: FOREVER });
    await b.redeemInvite('DDDD-EEEE-FFFF', { id: 'cl-2', name: 'Two', tokenHash: sha256Hex('t2'), expiresAt: FOREVER });
    const upload = { federationId: 'fed-a', round: 1, clinicId: 'cl-1', sha256: sha256Hex('x'), bytes: 1, ciphertextCount: 1 };
    expect((await a.recordUpload(upload)).kind).toBe('created');
    expect((await b.recordUpload(upload)).kind).toBe('duplicate');
    expect((await b.recordUpload({ ...upload, sha256: sha256Hex('y') })).kind).toBe('conflict');
    expect(await b.recordUpload({ ...upload, clinicId: 'cl-2', sha256: sha256Hex('z'), ciphertextCount: 2 })).toEqual({
      kind: 'shape-mismatch',
      message: 'round 1 takes 1 ciphertext(s) per upload; this upload has 2',
    });
    // An upload racing the close either lands before it (and is in the round) or is told the round moved on.
    const [closedByA, closedByB, late] = await Promise.all([a.tryClose('fed-a', 1), b.tryClose('fed-a', 1), b.recordUpload({ ...upload, clinicId: 'cl-2', sha256: sha256Hex('z') })]);
    expect([closedByA, closedByB].filter(Boolean)).toHaveLength(1);
    const included = (await a.uploadsFor('fed-a', 1)).map((u) => u.clinicId);
    expect(late.kind === 'created' ? included : [...included, 'late refused']).toEqual(late.kind === 'created' ? ['cl-1', 'cl-2'] : ['cl-1', 'late refused']);
    const result = { aggregateSha: sha256Hex('sum'), ciphertextCount: 1, clinics: included.length };
    expect(await Promise.all([a.completeAggregation('fed-a', 1, result), b.completeAggregation('fed-a', 1, result)])).toContain(false);
    expect((await a.getRound('fed-a', 1))?.status).toBe('closed');
    expect((await b.getFederation('fed-a'))?.currentRound).toBe(2);
    expect((await a.auditLog()).filter((e) => e.action === 'round.closed')).toHaveLength(1);
  });

  it("quarantines only while a round aggregates: a replica that lost the close cannot rewrite the closed round's roster", async () => {
    const [a, b] = await twoReplicas();
    await a.createFederation(FED, ['AAAA-BBBB-CCCC']);
    await a.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('t1'), expiresAt: FOREVER });
    expect((await a.recordUpload({ federationId: 'fed-a', round: 1, clinicId: 'cl-1', sha256: sha256Hex('x'), bytes: 1, ciphertextCount: 1 })).kind).toBe('created');
    expect(await b.quarantine('fed-a', 1, 'cl-1', 'collecting')).toBe(false);
    expect(await a.tryClose('fed-a', 1)).toBe(true);
    expect(await a.completeAggregation('fed-a', 1, { aggregateSha: sha256Hex('sum'), ciphertextCount: 1, clinics: 1 })).toBe(true);
    expect(await b.quarantine('fed-a', 1, 'cl-1', 'blob gone after the winner closed the round')).toBe(false);
    expect((await a.uploadsFor('fed-a', 1)).map((u) => u.quarantined)).toEqual([null]);
    expect((await a.auditLog()).filter((e) => e.action === 'upload.quarantined')).toEqual([]);
    expect(await b.failRound('fed-a', 1, 'too late')).toBe(false);
    expect((await a.getRound('fed-a', 1))?.status).toBe('closed');
  });

  it('the audit chain never forks when two replicas append at once', async () => {
    const [a, b] = await twoReplicas();
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).audit('admin', 'tick', { i })));
    const log = (await a.auditLog(1000)).reverse();
    expect(log).toHaveLength(40);
    for (let i = 1; i < log.length; i++) expect(log[i]?.prevHash).toBe(log[i - 1]?.hash);
    for (const e of log) expect(e.hash).toBe(sha256Hex(auditHashInput({ prevHash: e.prevHash, at: e.at, actor: e.actor, action: e.action, detail: e.detail })));
  });

  it('stores a clinic public key as bytes and revokes tokens', async () => {
    const [a, b] = await twoReplicas();
    await a.createFederation(FED, ['AAAA-BBBB-CCCC']);
    await a.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('t1'), expiresAt: FOREVER });
    const key = new Uint8Array(65).map((_, i) => i);
    await a.setClinicPublicKey('cl-1', key);
    expect(Array.from((await b.getClinic('cl-1'))?.publicKey ?? [])).toEqual(Array.from(key));
    expect((await b.clinicByTokenHash(sha256Hex('t1'), new Date().toISOString()))?.id).toBe('cl-1');
    expect(await a.revokeClinic('cl-1')).toBe(true);
    expect(await b.clinicByTokenHash(sha256Hex('t1'), new Date().toISOString())).toBeUndefined();
  });
});
