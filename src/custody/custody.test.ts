import { describe, expect, it } from 'vitest';
import { createClinicIdentity } from './identity.ts';
import { KeyWrapError, unwrapSecretKey, wrapSecretKey } from './keywrap.ts';
import { safetyCode } from './safety-code.ts';

const binding = { federationId: 'fed-a', holderClinicId: 'cl-holder', requesterClinicId: 'cl-new' };
const secret = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251);

describe('key relay', () => {
  it('only the intended clinic unwraps, and only under the same binding', async () => {
    const holder = await createClinicIdentity();
    const requester = await createClinicIdentity();
    const outsider = await createClinicIdentity();
    const wrapped = await wrapSecretKey(secret, holder.privateKey, requester.publicKeyRaw, binding);
    expect(Array.from(await unwrapSecretKey(wrapped, requester.privateKey, holder.publicKeyRaw, binding))).toEqual(Array.from(secret));
    // The wrapped bytes do not contain the secret.
    expect(Buffer.from(wrapped).includes(Buffer.from(secret.subarray(0, 64)))).toBe(false);
    await expect(unwrapSecretKey(wrapped, outsider.privateKey, holder.publicKeyRaw, binding)).rejects.toThrow(KeyWrapError);
    await expect(unwrapSecretKey(wrapped, requester.privateKey, holder.publicKeyRaw, { ...binding, federationId: 'fed-b' })).rejects.toThrow(/does not open/);
    const tampered = wrapped.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    await expect(unwrapSecretKey(tampered, requester.privateKey, holder.publicKeyRaw, binding)).rejects.toThrow(/altered/);
    await expect(unwrapSecretKey(wrapped.subarray(0, 20), requester.privateKey, holder.publicKeyRaw, binding)).rejects.toThrow(/too short/);
  });

  it('safety codes agree for the same keys and differ when the coordinator swaps one', async () => {
    const holder = await createClinicIdentity();
    const requester = await createClinicIdentity();
    const attacker = await createClinicIdentity();
    const code = await safetyCode(holder.publicKeyRaw, requester.publicKeyRaw);
    expect(code).toMatch(/^\d{4} \d{4} \d{4}$/);
    expect(await safetyCode(holder.publicKeyRaw, requester.publicKeyRaw)).toBe(code);
    expect(await safetyCode(holder.publicKeyRaw, attacker.publicKeyRaw)).not.toBe(code);
    expect(await safetyCode(attacker.publicKeyRaw, requester.publicKeyRaw)).not.toBe(code);
  });

  it('rejects a public key that is not a P-256 point', async () => {
    const holder = await createClinicIdentity();
    const bogus = new Uint8Array(65);
    bogus[0] = 4;
    await expect(wrapSecretKey(secret, holder.privateKey, bogus, binding)).rejects.toThrow(/not a valid P-256 point/);
    await expect(wrapSecretKey(secret, holder.privateKey, new Uint8Array(33), binding)).rejects.toThrow(/65 bytes/);
  });
});
