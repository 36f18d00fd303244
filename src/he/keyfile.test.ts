import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../protocol/envelope.ts';
import { HeContext } from './context.ts';
import { openKeyFile, sealKeyFile } from './keyfile.ts';
import { generateSecretKey } from './tokens.ts';

describe('passphrase key file', () => {
  it('round-trips the secret key, refuses a wrong passphrase and a relabelled header', async () => {
    const ctx = await HeContext.create('agg-v1');
    const key = await generateSecretKey(ctx, 'fed-keys');
    const file = await sealKeyFile(key, 'correct horse battery staple');
    const outer = decodeEnvelope(file, { kind: 'wrapped-secret-key', federationId: 'fed-keys', presetHash: ctx.presetHash });
    expect(outer.payload.length).toBeGreaterThan(key.length);

    expect(await openKeyFile(file, 'correct horse battery staple')).toEqual(key);
    await expect(openKeyFile(file, 'correct horse battery stapler')).rejects.toMatchObject({ code: 'bad-passphrase' });

    // Same payload under another federation id: the AES-GCM additional data no longer matches.
    const relabelled = encodeEnvelope({ ...outer, federationId: 'fed-evil' });
    await expect(openKeyFile(relabelled, 'correct horse battery staple')).rejects.toMatchObject({ code: 'bad-passphrase' });
    await expect(openKeyFile(key, 'x')).rejects.toMatchObject({ code: 'envelope:wrong-kind' });
  });
});
