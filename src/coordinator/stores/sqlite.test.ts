import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../common/sha256.ts';
import { Maintenance } from '../maintenance.ts';
import { FsBlobStore } from './fs-blobs.ts';
import { SqliteStore } from './sqlite.ts';
import type { NewFederation } from './types.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cipherpath-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const FED: NewFederation = { id: 'fed-a', name: 'A', presetId: 'agg-v1', strategy: 'sum', minClinics: 2, roundSeconds: 60, ciphertextCount: null, scaleBits: null, markerSlots: 0, expiresAt: null };
const FOREVER = '9999-01-01T00:00:00.000Z';
const NOW = () => new Date().toISOString();

describe('coordinator store', () => {
  it('redeems an invite once and finds the clinic only by its token hash', async () => {
    const store = new SqliteStore(freshDir());
    await store.createFederation(FED, ['AAAA-BBBB-CCCC']);
    const clinic = await store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('tok'), expiresAt: FOREVER });
    expect(clinic).toEqual({ id: 'cl-1', federationId: 'fed-a', name: 'One', holdsKey: false, publicKey: null });
    expect(await store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-2', name: 'Two', tokenHash: sha256Hex('tok2'), expiresAt: FOREVER })).toBeUndefined();
    expect((await store.clinicByTokenHash(sha256Hex('tok'), NOW()))?.id).toBe('cl-1');
    expect(await store.clinicByTokenHash('tok', NOW())).toBeUndefined();
    const raw = JSON.stringify(store.db.db.prepare('SELECT * FROM clinics').all()) + JSON.stringify(store.db.db.prepare('SELECT * FROM invites').all());
    expect(raw).not.toContain('AAAA-BBBB-CCCC');
    expect(raw).not.toContain('"tok"');
    await store.close();
  });

  it('keeps uploads idempotent by content hash and survives reopening', async () => {
    const dir = freshDir();
    const store = new SqliteStore(dir);
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await store.createFederation(FED, ['AAAA-BBBB-CCCC']);
    await store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('tok'), expiresAt: FOREVER });
    const sha = await blobs.put(new Uint8Array([1, 2, 3]));
    const upload = { federationId: 'fed-a', round: 1, clinicId: 'cl-1', sha256: sha, bytes: 3, ciphertextCount: 1 };
    expect((await store.recordUpload(upload)).kind).toBe('created');
    expect((await store.recordUpload(upload)).kind).toBe('duplicate');
    expect((await store.recordUpload({ ...upload, sha256: sha256Hex('other') })).kind).toBe('conflict');
    await store.close();
    const reopened = new SqliteStore(dir);
    expect((await reopened.uploadsFor('fed-a', 1)).map((u) => u.sha256)).toEqual([sha]);
    expect(Array.from(await new FsBlobStore(join(dir, 'blobs')).get(sha))).toEqual([1, 2, 3]);
    expect(statSync(join(dir, 'blobs', sha)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cipherpath.sqlite')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await reopened.close();
  });

  it('chains the audit log so an edited entry breaks the chain', async () => {
    const store = new SqliteStore(freshDir());
    await store.audit('admin', 'a', { n: 1 });
    await store.audit('cl-1', 'b', { n: 2 });
    const [second, first] = await store.auditLog();
    expect(second?.prevHash).toBe(first?.hash);
    expect(first?.hash).toBe(sha256Hex(`${first?.prevHash}\n${first?.at}\n${first?.actor}\n${first?.action}\n${first?.detail}`));
    await store.close();
  });

  it('closes a round once: tryClose and completeAggregation are compare-and-sets, and a closed round takes no upload', async () => {
    const store = new SqliteStore(freshDir());
    await store.createFederation(FED, ['AAAA-BBBB-CCCC']);
    await store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('tok'), expiresAt: FOREVER });
    expect(await Promise.all([store.tryClose('fed-a', 1), store.tryClose('fed-a', 1)])).toEqual([true, false]);
    const late = await store.recordUpload({ federationId: 'fed-a', round: 1, clinicId: 'cl-1', sha256: sha256Hex('x'), bytes: 1, ciphertextCount: 1 });
    expect(late).toEqual({ kind: 'not-collecting', status: 'aggregating', currentRound: 1 });
    const result = { aggregateSha: sha256Hex('sum'), ciphertextCount: 1, clinics: 2 };
    expect(await store.completeAggregation('fed-a', 1, result)).toBe(true);
    expect(await store.completeAggregation('fed-a', 1, result)).toBe(false);
    expect((await store.getFederation('fed-a'))?.currentRound).toBe(2);
    expect((await store.auditLog()).filter((e) => e.action === 'round.closed')).toHaveLength(1);
    await store.close();
  });

  it('answers a full database with StorageFull naming the disk, not "cannot rollback", keeps nothing and works once space is back', async () => {
    const store = new SqliteStore(freshDir());
    await store.createFederation(FED, []);
    // SQLite's own limit on the file's pages gives the real SQLITE_FULL a full disk gives, without filling one.
    const pages = (store.db.db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
    store.db.db.exec(`PRAGMA max_page_count = ${pages}`);
    const codes = Array.from({ length: 2000 }, (_, i) => `invite-code-${i}-${'x'.repeat(40)}`);
    const refused = store.createFederation({ ...FED, id: 'fed-b' }, codes);
    await expect(refused).rejects.toMatchObject({ status: 507 });
    await expect(refused).rejects.toThrow(/out of disk space \(.*full.*\); nothing was stored/);
    await expect(refused).rejects.not.toThrow(/cannot rollback/);
    expect(await store.getFederation('fed-b')).toBeUndefined();
    store.db.db.exec('PRAGMA max_page_count = 1073741823');
    expect((await store.createFederation({ ...FED, id: 'fed-b' }, codes)).id).toBe('fed-b');
    await store.close();
  });

  it('removes leftover .tmp files at start and rewrites a short copy on the next put', async () => {
    const dir = join(freshDir(), 'blobs');
    const blobs = new FsBlobStore(dir);
    const bytes = new Uint8Array(1000).fill(7);
    const sha = await blobs.put(bytes);
    const { writeFileSync, existsSync } = await import('node:fs');
    writeFileSync(join(dir, sha), bytes.subarray(0, 10));
    writeFileSync(join(dir, `${sha}.123.tmp`), 'partial');
    const reopened = new FsBlobStore(dir);
    expect(existsSync(join(dir, `${sha}.123.tmp`))).toBe(false);
    await expect(reopened.get(sha)).rejects.toThrow(/corrupt/);
    expect(await reopened.put(bytes)).toBe(sha);
    expect(Array.from(await reopened.get(sha))).toEqual(Array.from(bytes));
  });

  it('deletes expired demo federations with their blobs, and collects orphaned blobs', async () => {
    const dir = freshDir();
    const store = new SqliteStore(dir);
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await store.createFederation({ ...FED, id: 'fed-demo', expiresAt: new Date(Date.now() - 1000).toISOString() }, ['AAAA-BBBB-CCCC']);
    await store.createFederation(FED, []);
    await store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('tok'), expiresAt: FOREVER });
    const sha = await blobs.put(new Uint8Array([9, 9, 9]));
    await store.recordUpload({ federationId: 'fed-demo', round: 1, clinicId: 'cl-1', sha256: sha, bytes: 3, ciphertextCount: 1 });
    const orphan = await blobs.put(new Uint8Array([1]));
    const maintenance = new Maintenance(store, blobs, false);
    expect(await maintenance.expireDemos()).toEqual(['fed-demo']);
    expect(await store.getFederation('fed-demo')).toBeUndefined();
    expect(await blobs.list()).toEqual([orphan]);
    // What a replica restarting beside others does: a blob stored within the grace period may be another's upload.
    expect(await maintenance.collectOrphans(new Date(Date.now() - 3_600_000))).toBe(0);
    expect(await maintenance.collectOrphans()).toBe(1);
    expect(await blobs.list()).toEqual([]);
    expect((await store.listFederations()).map((f) => f.id)).toEqual(['fed-a']);
    await store.close();
  });
});
