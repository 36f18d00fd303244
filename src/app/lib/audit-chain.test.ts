// The browser's audit-chain check against the log a real coordinator store writes (node:sqlite, node:crypto hashes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../coordinator/stores/sqlite.ts';
import { verifyAuditChain } from './audit-chain.ts';

const dir = mkdtempSync(join(tmpdir(), 'cipherpath-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loggedStore() {
  const store = new SqliteStore(join(dir, String(Math.random()).slice(2)));
  await store.audit('admin', 'federation.created', { federationId: 'fed-a', name: 'Ünïcode clinic ✓', invites: 2 });
  await store.audit('clinic-1', 'clinic.enrolled', { federationId: 'fed-a', clinicId: 'clinic-1' });
  await store.audit('coordinator', 'round.closed', { federationId: 'fed-a', round: 1 });
  const log = await store.auditLog();
  await store.close();
  return log;
}

describe('verifyAuditChain', () => {
  it('verifies the chain the coordinator wrote, newest-first as the API returns it', async () => {
    const log = await loggedStore();
    expect(log.map((e) => e.id)).toEqual([3, 2, 1]);
    expect(await verifyAuditChain(log)).toEqual({ ok: true, entries: 3, firstId: 1, fromGenesis: true });
    // A window that starts after the first entry is anchored at its oldest entry.
    expect(await verifyAuditChain(log.slice(0, 2))).toEqual({ ok: true, entries: 2, firstId: 2, fromGenesis: false });
  });

  it('names the first entry whose content was changed', async () => {
    const log = (await loggedStore()).map((e) => (e.id === 2 ? { ...e, detail: e.detail.replace('clinic-1"}', 'clinic-9"}') } : e));
    const check = await verifyAuditChain(log);
    expect(check).toMatchObject({ ok: false, brokenId: 2 });
    expect(check.ok ? '' : check.reason).toContain('does not match its content');
  });

  it('names the entry after a removed one', async () => {
    const check = await verifyAuditChain((await loggedStore()).filter((e) => e.id !== 2));
    expect(check).toMatchObject({ ok: false, brokenId: 3 });
    expect(check.ok ? '' : check.reason).toContain('entry #1');
  });
});
