// Two coordinator replicas (src/coordinator/main.ts processes) on one Postgres database and one blob store
// (BLOB_STORE=postgres), on the postgres project. The clinics' uploads are split between them and some are resent to
// the other replica; replica A is SIGKILLed (a) with an upload body half sent, (b) at a round's quorum before the
// close commits, (c) while it aggregates a round, its sum stored and the result not committed (b and c by the
// FAULT_INJECT test hook, src/coordinator/fault-inject.ts). Replica B finishes every round alone. Then: one close per
// (federation, round), the decrypted sums are right (node-seal), the audit chain verifies from genesis with no fork,
// and restarting A changes nothing. It sits in scripts/ because it checks the chain with the admin page's verifier
// (src/app/lib/audit-chain.ts), which the coordinator room may not import.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/app/lib/audit-chain.ts';
import { sha256Hex } from '../src/common/sha256.ts';
import type { FaultPoint } from '../src/coordinator/fault-inject.ts';
import { PostgresDriver } from '../src/coordinator/stores/postgres-driver.ts';
import { SqlStore } from '../src/coordinator/stores/sql-store.ts';
import { adminFederation, enrol, httpClient, killProcess, spawnCoordinator } from '../src/coordinator/testing.ts';
import { HeContext } from '../src/he/context.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey } from '../src/he/tokens.ts';
import type { RoundView } from '../src/protocol/api.ts';
import { decodeBundle, encodeBundle } from '../src/protocol/bundle.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Replica {
  child: ChildProcess;
  url: string;
  /** Resolves with the signal that ended the process (null for a plain exit). */
  exited: Promise<NodeJS.Signals | null>;
}

/** A replica on the file's database (DATABASE_URL, inherited) with blobs in Postgres; REPLICA_LOG=<level> shows its log. */
async function startReplica(fault?: FaultPoint): Promise<Replica> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cipherpath-replica-'));
  dirs.push(dataDir);
  const env: Record<string, string> = { BLOB_STORE: 'postgres', FAULT_INJECT: fault ?? '' };
  const { child, url } = await spawnCoordinator(dataDir, { env, logLevel: process.env.REPLICA_LOG ?? 'warn', echo: Boolean(process.env.REPLICA_LOG) });
  children.push(child);
  return { child, url, exited: new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DIM = 24;
/** Clinic c's tokens for round r; `other` gives different values (the conflicting resend). */
const tokensFor = (c: number, r: number, other = 0): Float32Array[] => [Float32Array.from({ length: DIM }, (_, d) => Math.cos(c * 13 + r * 7 + other * 3 + d) * 4)];

/** Sends the first half of an upload to `url` (full Content-Length) and leaves it hanging; resolves when the socket dies. */
function halfUpload(url: string, path: string, token: string, body: Uint8Array): { sent: Promise<void>; ended: Promise<string> } {
  let sent!: () => void;
  const sentPromise = new Promise<void>((resolve) => (sent = resolve));
  const ended = new Promise<string>((resolve) => {
    const req = request({ host: '127.0.0.1', port: new URL(url).port, method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': body.byteLength } });
    req.on('error', (e) => resolve(e.message));
    req.on('response', (res) => resolve(`answered ${res.statusCode}`));
    req.write(body.subarray(0, body.byteLength >> 1), () => sent());
  });
  return { sent: sentPromise, ended };
}

describe.skipIf(!process.env.DATABASE_URL)('two replicas on one Postgres, one SIGKILLed at three points', () => {
  it('the survivor closes every round once with the right sum, the audit chain holds, the restarted replica changes nothing', async () => {
    const ctx = await HeContext.create('agg-v1');
    const db = await PostgresDriver.open(process.env.DATABASE_URL as string, { max: 2 });
    const store = new SqlStore(db);
    let a = await startReplica();
    const b = await startReplica();
    const onA = () => httpClient(a.url);
    const onB = httpClient(b.url);

    const { federationId, codes } = await adminFederation(onB, { minClinics: 3, invites: 4 });
    const clinics: { clinicId: string; token: string }[] = [];
    for (const [i, code] of codes.entries()) clinics.push(await enrol(i % 2 ? onB : onA(), code, `K${i}`));
    const secretKey = await generateSecretKey(ctx, federationId);
    const bundle = async (c: number, r: number, other = 0) => encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokensFor(c, r, other)));
    const path = (r: number) => `/api/federations/${federationId}/rounds/${r}/uploads`;
    const token = (c: number) => clinics[c]?.token as string;
    const upload = async (call: ReturnType<typeof httpClient>, c: number, r: number, body?: Uint8Array) => {
      const reply = await call<{ duplicate: boolean }>('POST', path(r), { token: token(c), binary: body ?? (await bundle(c, r)) });
      return { status: reply.status, duplicate: reply.body?.duplicate };
    };
    const roundOn = async (call: ReturnType<typeof httpClient>, r: number) => (await call<RoundView>('GET', `/api/federations/${federationId}/rounds/${r}`, { token: token(0) })).body;
    const closedOnB = async (r: number, ms: number): Promise<RoundView | undefined> => {
      for (const until = Date.now() + ms; Date.now() < until; await sleep(100)) {
        const view = await roundOn(onB, r);
        if (view.status !== 'collecting' && view.status !== 'aggregating') return view;
      }
      return undefined;
    };

    // Round 1: split and resent. Same bytes to the other replica are a duplicate, other bytes a conflict.
    const k0 = await bundle(0, 1);
    expect(await upload(onA(), 0, 1, k0)).toEqual({ status: 201, duplicate: false });
    expect(await upload(onB, 1, 1)).toEqual({ status: 201, duplicate: false });
    expect(await upload(onB, 0, 1, k0)).toEqual({ status: 200, duplicate: true });
    expect((await upload(onA(), 1, 1, await bundle(1, 1, 1))).status).toBe(409);
    // (a) K2's body is half sent to A when A is killed: nothing of it is kept, and B takes the whole upload as new.
    const k2 = await bundle(2, 1);
    const half = halfUpload(a.url, path(1), token(2), k2);
    await half.sent;
    await sleep(300);
    await killProcess(a.child);
    expect(await half.ended).not.toMatch(/^answered/);
    expect((await roundOn(onB, 1)).submitted.sort()).toEqual(['K0', 'K1']);
    expect(await db.get('SELECT sha256 FROM blobs WHERE sha256 = ?', sha256Hex(k2))).toBeUndefined();
    expect(await upload(onB, 2, 1, k2)).toEqual({ status: 201, duplicate: false });
    expect(await upload(onB, 3, 1)).toEqual({ status: 201, duplicate: false });
    expect((await closedOnB(1, 20_000))?.status).toBe('closed');

    // (b) and (c): the upload that completes the round goes to A, which SIGKILLs itself at the fault point; B must
    // finish the round on its own (no client resends anything). B's round watcher may take the round up in the
    // moments before A reaches the point (today every replica re-runs any round left aggregating); A then lives on
    // and the next round tries again.
    let r = 2;
    const crashA = async (fault: FaultPoint): Promise<void> => {
      a = await startReplica(fault);
      for (let attempt = 0; attempt < 5; attempt++, r++) {
        for (const c of [0, 1, 2]) expect((await upload(c % 2 ? onA() : onB, c, r)).status).toBe(201);
        expect((await upload(onA(), 3, r)).status).toBe(201);
        const closedWhileAlive = closedOnB(r, 20_000).then(async (view) => (view ? (await sleep(1_500), 'alive' as const) : 'not closed' as const));
        const signal = await Promise.race([a.exited, closedWhileAlive]);
        expect(signal).not.toBe('not closed');
        if (signal === 'alive') {
          console.warn(`round ${r} closed before replica A reached ${fault}; trying the next round`);
          continue;
        }
        expect(signal).toBe('SIGKILL');
        const view = await closedOnB(r, 20_000);
        expect(view?.status).toBe('closed');
        expect(view?.submitted.sort()).toEqual(['K0', 'K1', 'K2', 'K3']);
        r++;
        return;
      }
      throw new Error(`replica A never reached ${fault}`);
    };
    await crashA('before-close');
    await crashA('before-complete');
    const lastRound = r - 1;

    // Exactly one close per round, no failure or quarantine, every sum right.
    const entries = await store.auditLog(1_000_000);
    const closes = entries.filter((e) => e.action === 'round.closed').map((e) => JSON.parse(e.detail) as { federationId: string; round: number });
    expect(closes.map((c) => c.round).sort((x, y) => x - y)).toEqual(Array.from({ length: lastRound }, (_, i) => i + 1));
    expect(closes.every((c) => c.federationId === federationId)).toBe(true);
    expect(entries.filter((e) => e.action === 'round.failed' || e.action === 'upload.quarantined')).toEqual([]);
    const checkSums = async (call: ReturnType<typeof httpClient>) => {
      for (let round = 1; round <= lastRound; round++) {
        const aggregate = await call('GET', `/api/federations/${federationId}/rounds/${round}/aggregate`, { token: token(1) });
        expect(aggregate.status).toBe(200);
        const [sum] = await decryptTokenBatch(ctx, secretKey, decodeBundle(aggregate.bytes), 1, DIM);
        for (let d = 0; d < DIM; d++) expect(Math.abs((sum?.[d] ?? NaN) - [0, 1, 2, 3].reduce((s, c) => s + (tokensFor(c, round)[0]?.[d] ?? 0), 0))).toBeLessThan(1e-6);
      }
    };
    await checkSums(onB);
    // The audit chain: every entry from genesis, each naming its predecessor's hash (a fork would break it).
    const chain = verifyAuditChain(entries);
    expect(chain).toEqual({ ok: true, entries: entries.length, firstId: 1, fromGenesis: true });
    expect(entries.filter((e) => e.action === 'upload.accepted')).toHaveLength(4 * lastRound);

    // Restarting A (no fault) changes nothing: same rounds, same audit head, and it serves the same sums.
    const settled = async () => ({
      rounds: await db.all('SELECT round, status, aggregate_sha, closed_at FROM rounds WHERE federation_id = ? ORDER BY round', federationId),
      auditHead: (await store.auditLog(1))[0],
    });
    const before = await settled();
    expect(before.rounds.map((row) => row.status)).toEqual([...Array<string>(lastRound).fill('closed'), 'collecting']);
    a = await startReplica();
    await sleep(2_500); // its restart recovery and two ticks of its round watcher
    expect(await settled()).toEqual(before);
    await checkSums(onA());
    // Once rounds run on pg-boss, no job may be left active, retrying or failed (dead-lettered).
    if ((await db.get("SELECT to_regclass('pgboss.job') AS t"))?.t) {
      expect(await db.all("SELECT name, state FROM pgboss.job WHERE state IN ('active', 'retry', 'failed')")).toEqual([]);
    }

    await Promise.all([killProcess(a.child), killProcess(b.child)]);
    await store.close();
    ctx.dispose();
  });
});
