// SIGKILL in the middle of a round: the coordinator process is killed without warning and restarted on the same
// data directory. Every accepted upload must survive and the round must close with all of them.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HeContext } from '../he/context.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey } from '../he/tokens.ts';
import type { RoundView } from '../protocol/api.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { PostgresDriver } from './stores/postgres-driver.ts';
import { SqlStore } from './stores/sql-store.ts';
import { SqliteStore } from './stores/sqlite.ts';
import { adminFederation, enrol, httpClient, killProcess, spawnCoordinator } from './testing.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'cipherpath-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startProcess(): Promise<{ child: ChildProcess; url: string }> {
  const started = await spawnCoordinator(dataDir);
  children.push(started.child);
  return started;
}

const tokensFor = (clinic: number): Float32Array[] => [Float32Array.from({ length: 24 }, (_, d) => Math.cos(clinic * 13 + d) * 4)];

describe('crash safety', () => {
  it('loses no accepted upload across SIGKILL, including a kill right after the last upload', async () => {
    const ctx = await HeContext.create('agg-v1');
    let { child, url } = await startProcess();
    let call = httpClient(url);
    const { federationId, codes } = await adminFederation(call, { minClinics: 3, invites: 3 });
    const clinics: { clinicId: string; token: string }[] = [];
    for (const [i, code] of codes.entries()) clinics.push(await enrol(call, code, `K${i}`));
    const secretKey = await generateSecretKey(ctx, federationId);
    const upload = async (i: number) =>
      call('POST', `/api/federations/${federationId}/rounds/1/uploads`, {
        token: clinics[i]?.token,
        binary: encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokensFor(i))),
      });
    expect((await upload(0)).status).toBe(201);
    expect((await upload(1)).status).toBe(201);

    await killProcess(child);
    ({ child, url } = await startProcess());
    call = httpClient(url);
    const token = clinics[0]?.token as string;
    const afterFirstKill = await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token });
    expect(afterFirstKill.body.status).toBe('collecting');
    expect(afterFirstKill.body.submitted.sort()).toEqual(['K0', 'K1']);

    // The last upload completes the quorum and starts aggregation; kill at once, mid-aggregation at best.
    expect((await upload(2)).status).toBe(201);
    await killProcess(child);
    ({ child, url } = await startProcess());
    call = httpClient(url);

    // On Postgres the killed process may already hold the aggregation job: it comes back once its heartbeat (10 s
    // here) lapses, so this waits up to 30 s.
    let round: RoundView | undefined;
    for (let i = 0; i < 300; i++) {
      round = (await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token })).body;
      if (round.status === 'closed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(round?.status).toBe('closed');
    expect(round?.submitted.sort()).toEqual(['K0', 'K1', 'K2']);
    const aggregate = await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token });
    const [sum] = await decryptTokenBatch(ctx, secretKey, decodeBundle(aggregate.bytes), 1, 24);
    for (let d = 0; d < 24; d++) expect(Math.abs((sum?.[d] ?? NaN) - [0, 1, 2].reduce((s, c) => s + (tokensFor(c)[0]?.[d] ?? 0), 0))).toBeLessThan(1e-6);
    await killProcess(child);
    ctx.dispose();
  });

  it("closes a round a crash left 'aggregating' once the coordinator is back", async () => {
    const ctx = await HeContext.create('agg-v1');
    let { child, url } = await startProcess();
    let call = httpClient(url);
    const { federationId, codes } = await adminFederation(call, { minClinics: 2, invites: 3 });
    const clinics = [await enrol(call, codes[0] as string, 'A0'), await enrol(call, codes[1] as string, 'A1'), await enrol(call, codes[2] as string, 'A2')];
    const secretKey = await generateSecretKey(ctx, federationId);
    for (const i of [0, 1]) {
      const body = encodeBundle(await encryptTokenBatch(ctx, secretKey, federationId, tokensFor(i)));
      expect((await call('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinics[i]?.token, binary: body })).status).toBe(201);
    }
    await killProcess(child);
    // The close had been taken (collecting -> aggregating) when the process died, before the aggregate was stored.
    const databaseUrl = process.env.DATABASE_URL; // the postgres project runs the coordinator on Postgres
    const store = databaseUrl ? new SqlStore(await PostgresDriver.open(databaseUrl)) : new SqliteStore(dataDir);
    expect(await store.tryClose(federationId, 1)).toBe(true);
    expect((await store.getRound(federationId, 1))?.status).toBe('aggregating');
    await store.close();

    ({ child, url } = await startProcess());
    call = httpClient(url);
    const token = clinics[0]?.token as string;
    let round: RoundView | undefined;
    for (let i = 0; i < 100; i++) {
      round = (await call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token })).body;
      if (round.status !== 'aggregating') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(round?.status).toBe('closed');
    expect(round?.submitted.sort()).toEqual(['A0', 'A1']);
    const [sum] = await decryptTokenBatch(ctx, secretKey, decodeBundle((await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token })).bytes), 1, 24);
    for (let d = 0; d < 24; d++) expect(Math.abs((sum?.[d] ?? NaN) - [0, 1].reduce((s, c) => s + (tokensFor(c)[0]?.[d] ?? 0), 0))).toBeLessThan(1e-6);
    expect((await call<RoundView>('GET', `/api/federations/${federationId}/rounds/2`, { token })).body.status).toBe('collecting');
    await killProcess(child);
    ctx.dispose();
  });
});
