import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, sha256Hex } from './store.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cipherpath-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('coordinator store', () => {
  it('redeems an invite once and finds the clinic only by its token hash', () => {
    const store = new Store(freshDir());
    store.createFederation({ id: 'fed-a', name: 'A', presetId: 'agg-v1', strategy: 'sum', minClinics: 2, roundSeconds: 60 });
    store.addInvite('fed-a', 'AAAA-BBBB-CCCC');
    const clinic = store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('tok') });
    expect(clinic).toEqual({ id: 'cl-1', federationId: 'fed-a', name: 'One', holdsKey: false, publicKey: null });
    expect(store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-2', name: 'Two', tokenHash: sha256Hex('tok2') })).toBeUndefined();
    expect(store.clinicByTokenHash(sha256Hex('tok'))?.id).toBe('cl-1');
    expect(store.clinicByTokenHash('tok')).toBeUndefined();
    const raw = JSON.stringify(store.db.prepare('SELECT * FROM clinics').all()) + JSON.stringify(store.db.prepare('SELECT * FROM invites').all());
    expect(raw).not.toContain('AAAA-BBBB-CCCC');
    expect(raw).not.toContain('"tok"');
    store.close();
  });

  it('keeps uploads idempotent by content hash and survives reopening', () => {
    const dir = freshDir();
    const store = new Store(dir);
    store.createFederation({ id: 'fed-a', name: 'A', presetId: 'agg-v1', strategy: 'sum', minClinics: 2, roundSeconds: 60 });
    store.addInvite('fed-a', 'AAAA-BBBB-CCCC');
    store.redeemInvite('AAAA-BBBB-CCCC', { id: 'cl-1', name: 'One', tokenHash: sha256Hex('tok') });
    const sha = store.putBlob(new Uint8Array([1, 2, 3]));
    const upload = { federationId: 'fed-a', round: 1, clinicId: 'cl-1', sha256: sha, bytes: 3, ciphertextCount: 1 };
    expect(store.addUpload(upload)).toBe('added');
    expect(store.addUpload(upload)).toBe('duplicate');
    expect(store.addUpload({ ...upload, sha256: sha256Hex('other') })).toBe('conflict');
    store.close();
    const reopened = new Store(dir);
    expect(reopened.uploadsFor('fed-a', 1).map((u) => u.sha256)).toEqual([sha]);
    expect(Array.from(reopened.getBlob(sha))).toEqual([1, 2, 3]);
    reopened.close();
  });

  it('chains the audit log so an edited entry breaks the chain', () => {
    const store = new Store(freshDir());
    store.audit('admin', 'a', { n: 1 });
    store.audit('cl-1', 'b', { n: 2 });
    const [second, first] = store.auditLog();
    expect(second?.prevHash).toBe(first?.hash);
    expect(first?.hash).toBe(sha256Hex(`${first?.prevHash}\n${first?.at}\n${first?.actor}\n${first?.action}\n${first?.detail}`));
    store.close();
  });
});
