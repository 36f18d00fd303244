// A live federation's rounds as the app's clinics run them (LiveRound over RoundClient), against the real coordinator
// in-process with the real HE core: prototypes gives every clinic the pooled class means, ridge the pooled ridge
// head (no app code knows it); fedavg-head's round 2
// starts from round 1's global head, stored or rebuilt from round 1's aggregate by a clinic that lost it; the token
// sum adds token t of each clinic into slot t, unlabelled tiles included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedCoordinator, startEmbeddedCoordinator } from '../coordinator/embedded.ts';
import { HeContext } from '../he/context.ts';
import { generateSecretKey } from '../he/tokens.ts';
import { CLASS_LABELS } from '../protocol/vocabulary.ts';
import { useNodeWasmBackend } from '../vit/node-io.ts';
import { coordinatorRoundApi, enrolFederation } from './coordinator.ts';
import { syntheticDataset } from './dataset.ts';
import { type GlobalHead, type GlobalHeadStore, LiveRound, type LiveTile } from './live-round.ts';
import { RoundClient } from './round-client.ts';
import { contextCrypto } from './round-crypto.ts';
import type { RoundStrategyName } from './strategies/index.ts';
import { Prototypes } from './strategies/prototypes.ts';

const DIM = 32;
const { train } = syntheticDataset({ seed: 3, trainPerClass: 8, testPerClass: 1, dim: DIM });

/** Clinic c's tiles: every other synthetic token from offset c, the last one unlabelled. */
function tilesOf(clinic: number): LiveTile[] {
  const tiles: LiveTile[] = [];
  for (let t = clinic; t < train.count; t += 2) {
    tiles.push({ id: `c${clinic}-t${String(t).padStart(3, '0')}`, token: train.tokens.slice(t * DIM, (t + 1) * DIM), label: CLASS_LABELS[train.labels[t] as number] ?? null });
  }
  (tiles.at(-1) as LiveTile).label = null;
  return tiles;
}

function memoryHeads(): GlobalHeadStore & { rounds: Map<number, GlobalHead> } {
  const rounds = new Map<number, GlobalHead>();
  return { rounds, load: (round) => rounds.get(round) ?? null, save: (global) => void rounds.set(global.round, global) };
}

let coordinator: EmbeddedCoordinator;
let ctx: HeContext;

beforeAll(async () => {
  [coordinator, ctx] = await Promise.all([startEmbeddedCoordinator(), HeContext.create('agg-v1'), useNodeWasmBackend()]);
});
afterAll(async () => {
  await coordinator?.close();
});

async function federation(strategy: RoundStrategyName): Promise<RoundClient[]> {
  const enrolled = await enrolFederation(coordinator, { name: `live ${strategy}`, strategy, clinics: 2 });
  const secretKey = await generateSecretKey(ctx, enrolled.federationId);
  return enrolled.clinicTokens.map(
    (token, i) =>
      new RoundClient({
        api: coordinatorRoundApi(coordinator.url, token, enrolled.federationId),
        crypto: contextCrypto(ctx, secretKey, enrolled.federationId),
        federationId: enrolled.federationId,
        clinicId: enrolled.clinicIds[i] as string,
        pinnedQuorum: enrolled.minClinics,
        pollMs: 20,
      }),
  );
}

/** One round of `strategy` at both clinics (tiles of clinic i: tilesOf(i)), and the sum of the contributions in clear. */
async function bothClinics(strategy: RoundStrategyName) {
  const rounds = (await federation(strategy)).map((client) => new LiveRound({ client, strategy }));
  const contributions = await Promise.all(rounds.map((live, i) => live.contribute(1, tilesOf(i))));
  const results = await Promise.all(rounds.map((live, i) => live.finish(1, { length: contributions[i]?.values.length ?? 0, dim: DIM })));
  const [a, b] = contributions.map((c) => c.values) as [Float64Array, Float64Array];
  return { rounds, contributions, results, plain: a.map((v, k) => v + (b[k] as number)) };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, k) => Math.max(m, Math.abs(v - (b[k] as number))), 0);

describe('LiveRound against the real coordinator', () => {
  it('prototypes: both clinics decrypt the pooled class means, scored on their labelled tiles', async () => {
    const { contributions, results, plain } = await bothClinics('prototypes');
    expect(contributions[0]?.scoredTileIds).toEqual(tilesOf(0).filter((t) => t.label).map((t) => t.id).sort());
    const pooled = new Prototypes().combine(plain, { classes: 3, dim: DIM, weights: new Float64Array(0), biases: new Float64Array(0) });
    for (const result of results) expect(maxDiff(result.global?.head.weights ?? [], pooled.weights)).toBeLessThan(1e-5);
    expect(results[0]?.global?.checksum).toBe(results[1]?.global?.checksum);
  });

  it('ridge, which the app has no label for yet, runs through the same LiveRound: both clinics solve the pooled system', async () => {
    const { rounds, results, plain } = await bothClinics('ridge');
    const pooled = (rounds[0] as LiveRound).combine(plain, DIM);
    for (const result of results) expect(maxDiff(result.global?.head.weights ?? [], pooled?.weights ?? [])).toBeLessThan(1e-4);
  });

  it('fedavg-head: round 2 starts from round 1 at both clinics, and a clinic that lost it rebuilds it from the aggregate', async () => {
    const clients = await federation('fedavg-head');
    const heads = [memoryHeads(), memoryHeads()];
    const rounds = clients.map((client, i) => new LiveRound({ client, strategy: 'fedavg-head', epochs: 2, heads: heads[i] as GlobalHeadStore }));
    const checksums: string[][] = [];
    for (const round of [1, 2]) {
      const contributions = await Promise.all(rounds.map((live, i) => live.contribute(round, tilesOf(i))));
      expect(contributions.map((c) => c.startedFrom?.checksum ?? null)).toEqual(round === 1 ? [null, null] : [checksums[0]?.[0], checksums[0]?.[0]]);
      // A held-out quarter of the 11 labelled tiles (3) scores the head, the rest (8) train it.
      expect(contributions.map((c) => [c.trainCount, c.scoredTileIds.length])).toEqual([[8, 3], [8, 3]]);
      const results = await Promise.all(rounds.map((live, i) => live.finish(round, { length: contributions[i]?.values.length ?? 0, dim: DIM })));
      checksums.push(results.map((r) => r.global?.checksum ?? ''));
    }
    expect(new Set(checksums[0]).size).toBe(1);
    expect(new Set(checksums[1]).size).toBe(1);
    expect(checksums[1]?.[0]).not.toBe(checksums[0]?.[0]);
    expect([...(heads[0] as { rounds: Map<number, GlobalHead> }).rounds.keys()].sort()).toEqual([1, 2]);
    const forgetful = new LiveRound({ client: clients[1] as RoundClient, strategy: 'fedavg-head', heads: memoryHeads() });
    expect((await forgetful.startHead(3, DIM))?.checksum).toBe(checksums[1]?.[0]);
  });

  it('sum: token t of every clinic adds into slot t, labelled or not', async () => {
    const clients = await federation('sum');
    const rounds = clients.map((client) => new LiveRound({ client, strategy: 'sum' }));
    const tiles = [tilesOf(0), tilesOf(1)];
    const contributions = await Promise.all(rounds.map((live, i) => live.contribute(1, tiles[i] as LiveTile[])));
    expect(contributions[0]?.values.length).toBe((tiles[0] as LiveTile[]).length * DIM);
    const result = await (rounds[0] as LiveRound).finish(1, { length: contributions[0]?.values.length ?? 0, dim: DIM });
    expect(result.global).toBeNull();
    const expected = (tiles[0] as LiveTile[]).flatMap((t, i) => Array.from(t.token, (v, d) => v + ((tiles[1] as LiveTile[])[i]?.token[d] as number)));
    expect(maxDiff(result.aggregate.sum, expected)).toBeLessThan(1e-5);
  });
});
