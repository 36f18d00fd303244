// One mapping of HE failures to HTTP (errors.ts heInputError): SEAL's verdict on what a clinic sent is a 400 naming
// the part, a failure of the HE pool itself is the coordinator's 500, never a 400 that blames the clinic.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeBundle } from '../protocol/bundle.ts';
import { adminFederation, enrol, type PooledCoordinator, startPooledCoordinator } from './testing.ts';

let running: PooledCoordinator;

beforeAll(async () => {
  running = await startPooledCoordinator();
});

afterAll(() => running.stop());

it('answers 400 for bytes SEAL refuses and 500 when the HE pool itself fails', async () => {
  const { call, pool } = running;
  const { federationId, codes } = await adminFederation(call, { minClinics: 1, invites: 1 });
  const clinic = await enrol(call, codes[0] as string, 'H');
  const garbage = encodeBundle([crypto.getRandomValues(new Uint8Array(5000))]);
  const upload = () => call<{ error: string; message: string }>('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: garbage });

  const refused = await upload();
  expect(refused.status).toBe(400);
  expect(refused.body.error).toBe('invalid-ciphertext');
  expect(refused.body.message).toMatch(/^ciphertext 0: /);

  await pool.close(); // every HE call now fails with code 'worker'
  const failed = await upload();
  expect(failed.status).toBe(500);
  expect(failed.body.error).toBe('internal');
});
