// The simulated clinics' HTTP client against the real coordinator, across the synchronous stretches the simulator
// runs between two rounds (local training and encryption block the loop that also hosts an embedded coordinator).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCoordinator, type EmbeddedCoordinator } from '../coordinator/embedded.ts';
import { HeContext } from '../he/context.ts';
import { generateSecretKey } from '../he/tokens.ts';
import { abmilParameterCount, abmilShape } from './abmil.ts';
import { CoordinatorChannel, enrolFederation } from './coordinator.ts';

/** An abmil contribution at D = 384 with 3 classes: every parameter and the slide count (113 ciphertexts). */
const LENGTH = abmilParameterCount(abmilShape(384, 3)) + 1;
const BOUNDS = { clinicCount: 2, maxCount: 10, maxAbsValue: 4 };
/** Shorter than the 72 s default so the test can outlast it; still above undici's 2 s keep-alive threshold, so idle sockets are kept for reuse. */
const KEEP_ALIVE_SECONDS = 3;
const vector = (clinic: number, round: number) => Float64Array.from({ length: LENGTH }, (_, k) => Math.sin(clinic * 7.1 + round * 3.3 + k * 0.37) * 20);

/** Holds the event loop, as trainAbmil does, without spending the CPU. */
const blockEventLoop = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

let coordinator: EmbeddedCoordinator;
let ctx: HeContext;

beforeAll(async () => {
  [coordinator, ctx] = await Promise.all([startEmbeddedCoordinator({ env: { KEEP_ALIVE_SECONDS: String(KEEP_ALIVE_SECONDS) } }), HeContext.create('agg-v1')]);
});
afterAll(async () => {
  await coordinator?.close();
});

describe('CoordinatorChannel', () => {
  it("sums abmil-sized rounds when the loop is blocked past the server's keep-alive between them", async () => {
    const federation = await enrolFederation(coordinator, { name: 'blocked loop', strategy: 'prototypes', clinics: 2 });
    const channel = new CoordinatorChannel({ ctx, secretKey: await generateSecretKey(ctx, federation.federationId), coordinator, federation });
    for (const round of [1, 2]) {
      if (round > 1) blockEventLoop((KEEP_ALIVE_SECONDS + 1) * 1000);
      const [first, second] = [vector(0, round), vector(1, round)];
      const { sum, ciphertextsPerClinic, bytesUpPerClinic } = await channel.sum(round, new Map([[0, first], [1, second]]), BOUNDS);
      expect(ciphertextsPerClinic).toBe(113);
      expect(bytesUpPerClinic).toBeGreaterThan(7e6);
      expect(sum).toHaveLength(LENGTH);
      expect(sum.reduce((worst, v, k) => Math.max(worst, Math.abs(v - (first[k] as number) - (second[k] as number))), 0)).toBeLessThan(1e-3);
    }
  });
});
