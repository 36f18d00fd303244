// The round client against the real coordinator (started in-process), with the real HE core: three clinics
// contribute, wait on one poller, download and verify. Then the coordinator turns malicious through the wire the
// clinics see (its round routes wrapped): it serves one clinic's upload added to itself as the aggregate, or drops a
// clinic from the sum (listing it or not); every such aggregate is refused with an InclusionError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCoordinator, type EmbeddedCoordinator } from '../coordinator/embedded.ts';
import { HeContext } from '../he/context.ts';
import { generateSecretKey, sumCiphertexts } from '../he/tokens.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';
import { coordinatorRoundApi, enrolFederation, type EnrolledFederation } from './coordinator.ts';
import { InclusionError } from './inclusion.ts';
import { type RoundApi, RoundClient, RoundFailedError } from './round-client.ts';
import { contextCrypto } from './round-crypto.ts';

const LENGTH = 300;
const BOUNDS = { clinicCount: 3, maxCount: 10, maxAbsValue: 4 };
const vector = (clinic: number, round: number) => Float64Array.from({ length: LENGTH }, (_, k) => Math.sin(clinic * 7.1 + round * 3.3 + k * 0.37) * 20);

/** What a malicious coordinator serves instead of the honest aggregate and roster. */
type Twist = (args: { uploads: Map<string, Uint8Array>; honest: Uint8Array; clinicIds: string[] }) => Promise<{ aggregate: Uint8Array; submitted?: string[] }>;

let coordinator: EmbeddedCoordinator;
let ctx: HeContext;

beforeAll(async () => {
  [coordinator, ctx] = await Promise.all([startEmbeddedCoordinator(), HeContext.create('agg-v1')]);
});
afterAll(async () => {
  await coordinator?.close();
});

async function federation(name: string) {
  const enrolled: EnrolledFederation = await enrolFederation(coordinator, { name, strategy: 'prototypes', clinics: 3 });
  const secretKey = await generateSecretKey(ctx, enrolled.federationId);
  return { enrolled, secretKey };
}

function clients(enrolled: EnrolledFederation, secretKey: Uint8Array, twist?: Twist, calls?: { round: number }): RoundClient[] {
  const uploads = new Map<string, Uint8Array>();
  return enrolled.clinicTokens.map((token, i) => {
    const clinicId = enrolled.clinicIds[i] as string;
    const honest = coordinatorRoundApi(coordinator.url, token, enrolled.federationId);
    const api: RoundApi = {
      async round(round, signal) {
        if (calls) calls.round++;
        const view = await honest.round(round, signal);
        if (!twist || view.status !== 'closed') return view;
        const { submitted } = await twist({ uploads, honest: await honest.aggregate(round), clinicIds: enrolled.clinicIds });
        return submitted ? { ...view, submittedIds: submitted } : view;
      },
      async upload(round, bundle, signal) {
        uploads.set(clinicId, bundle);
        return honest.upload(round, bundle, signal);
      },
      async aggregate(round, signal) {
        const real = await honest.aggregate(round, signal);
        return twist ? (await twist({ uploads, honest: real, clinicIds: enrolled.clinicIds })).aggregate : real;
      },
    };
    return new RoundClient({ api, crypto: contextCrypto(ctx, secretKey, enrolled.federationId), federationId: enrolled.federationId, clinicId, pinnedQuorum: enrolled.minClinics, pollMs: 20 });
  });
}

async function contributeAll(all: RoundClient[], round: number): Promise<void> {
  for (const [i, client] of all.entries()) await client.contribute(round, vector(i, round), BOUNDS);
}

const add = async (fid: string, bundles: Uint8Array[]) => encodeBundle(await sumCiphertexts(ctx, fid, bundles.map((b) => decodeBundle(b))));

describe('RoundClient against the real coordinator', () => {
  it('contributes, waits on one poller, and every clinic decrypts the verified sum', async () => {
    const { enrolled, secretKey } = await federation('honest');
    const calls = { round: 0 };
    const all = clients(enrolled, secretKey, undefined, calls);
    await all[0]?.contribute(1, vector(0, 1), BOUNDS);
    // Two waits on one round share one poller; an aborted wait rejects without stopping the other.
    const aborted = new AbortController();
    const first = all[0]?.wait(1, { signal: aborted.signal });
    const second = all[0]?.wait(1);
    aborted.abort(new Error('the page went away'));
    await expect(first).rejects.toThrow('the page went away');
    await all[1]?.contribute(1, vector(1, 1), BOUNDS);
    await all[2]?.contribute(1, vector(2, 1), BOUNDS);
    const closed = await second;
    expect(closed?.status).toBe('closed');
    expect(closed?.submittedIds).toHaveLength(3);
    const pollsForTwoWaits = calls.round;
    const expected = Float64Array.from({ length: LENGTH }, (_, k) => [0, 1, 2].reduce((s, c) => s + (vector(c, 1)[k] as number), 0));
    for (const client of all) {
      const verified = await client.download(1, LENGTH, BOUNDS);
      expect(verified.roster).toEqual(closed?.submittedIds);
      expect(verified.sum).toHaveLength(LENGTH);
      let err = 0;
      verified.sum.forEach((v, k) => (err = Math.max(err, Math.abs(v - (expected[k] as number)))));
      expect(err).toBeLessThan(1e-6);
    }
    // One poller: the reads while two callers waited were at most what one loop makes (plus the three downloads).
    expect(pollsForTwoWaits).toBeGreaterThan(0);
    expect(calls.round - pollsForTwoWaits).toBe(3);
  });

  it('stops waiting when the round fails, naming why, instead of polling a round that will never close', async () => {
    const { enrolled, secretKey } = await federation('fails');
    const all = clients(enrolled, secretKey);
    // Clinic 0 sends two ciphertexts where the others send one: aggregation sets it aside, which leaves 2 of quorum 3.
    await all[0]?.contribute(1, Float64Array.from({ length: 5000 }, () => 1), BOUNDS);
    await all[1]?.contribute(1, vector(1, 1), BOUNDS);
    await all[2]?.contribute(1, vector(2, 1), BOUNDS);
    await expect(all[2]?.wait(1)).rejects.toThrow(/round 1 failed: only 2 usable upload\(s\) after quarantine; the quorum is 3; round 2 is open/);
    await expect(all[1]?.wait(1)).rejects.toBeInstanceOf(RoundFailedError);
  });

  it("refuses one clinic's upload added to itself as the aggregate", async () => {
    const { enrolled, secretKey } = await federation('doubled');
    const all = clients(enrolled, secretKey, async ({ uploads, clinicIds }) => {
      const a = uploads.get(clinicIds[0] as string) as Uint8Array;
      return { aggregate: await add(enrolled.federationId, [a, a, a]) };
    });
    await contributeAll(all, 1);
    await all[1]?.wait(1);
    // Clinic B would otherwise decrypt 3 x clinic A's private contribution with a plausible count of 3.
    for (const client of all) await expect(client.download(1, LENGTH, BOUNDS)).rejects.toThrow(/marker 0 is .* \(a contribution is missing, doubled or foreign\)/);
    await expect(all[1]?.download(1, LENGTH, BOUNDS)).rejects.toBeInstanceOf(InclusionError);
  });

  it('refuses a sum that drops a clinic, whether or not the roster still lists it', async () => {
    const { enrolled, secretKey } = await federation('dropped');
    const listed = clients(enrolled, secretKey, async ({ uploads, clinicIds }) => ({
      aggregate: await add(enrolled.federationId, [uploads.get(clinicIds[0] as string) as Uint8Array, uploads.get(clinicIds[1] as string) as Uint8Array]),
    }));
    await contributeAll(listed, 1);
    await listed[0]?.wait(1);
    await expect(listed[0]?.download(1, LENGTH, BOUNDS)).rejects.toThrow('it holds 2 contribution(s) but the roster lists 3');

    const { enrolled: second, secretKey: key2 } = await federation('dropped and unlisted');
    const unlisted = clients(second, key2, async ({ uploads, clinicIds }) => ({
      aggregate: await add(second.federationId, [uploads.get(clinicIds[0] as string) as Uint8Array, uploads.get(clinicIds[1] as string) as Uint8Array]),
      submitted: clinicIds.slice(0, 2),
    }));
    await contributeAll(unlisted, 1);
    await unlisted[0]?.wait(1);
    await expect(unlisted[2]?.download(1, LENGTH, BOUNDS)).rejects.toThrow(/this clinic \(.*\) is not on the roster of submitters/);
    await expect(unlisted[0]?.download(1, LENGTH, BOUNDS)).rejects.toThrow('the roster has 2 clinic(s), fewer than the quorum of 3 pinned at enrolment');
  });

  it("refuses another round's aggregate replayed as this one's", async () => {
    const { enrolled, secretKey } = await federation('replayed');
    const honest = clients(enrolled, secretKey);
    await contributeAll(honest, 1);
    await honest[0]?.wait(1);
    const round1 = await coordinatorRoundApi(coordinator.url, enrolled.clinicTokens[0] as string, enrolled.federationId).aggregate(1);
    const replaying = clients(enrolled, secretKey, async () => ({ aggregate: round1 }));
    await contributeAll(replaying, 2);
    await replaying[0]?.wait(2);
    await expect(replaying[0]?.download(2, LENGTH, BOUNDS)).rejects.toThrow(/marker \d is/);
  });
});
