// Secret keys by handle, through the handler table the browser worker serves (over src/rpc's loopback, which clones
// and transfers as postMessage does): keys made, loaded, sealed and opened in slots; a dropped handle fails with
// 'unknown-key'; a dropped slot's bytes are zero-filled; the caller's copy of a loaded key is wiped at once.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../protocol/envelope.ts';
import { loopbackPair } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { HeWorkerClient } from './client.ts';
import { HeContext } from './context.ts';
import { HeError } from './errors.ts';
import { heHandlers, heWireError } from './handlers.ts';
import { markerSecret, markers } from './inclusion-markers.ts';
import { KeySlots } from './key-slots.ts';
import { openKeyFile } from './keyfile.ts';
import { generateSecretKey } from './tokens.ts';

const FED = 'fed-key-slots';
const ROUND = { clinicCount: 3, maxCount: 1, maxAbsValue: 10 };

function worker(): HeWorkerClient {
  const [client, server] = loopbackPair();
  const stop = serveRpc(heHandlers(), server, { toWireError: heWireError });
  return new HeWorkerClient({ channel: client, terminate: stop });
}

const aesKey = () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);
const code = (e: unknown) => (e instanceof HeError ? e.code : String(e));

let ctx: HeContext;
let keyBytes: Uint8Array;

beforeAll(async () => {
  ctx = await HeContext.create('agg-v1');
  keyBytes = await generateSecretKey(ctx, FED);
});

describe('key slots', () => {
  it('a key made in the worker encrypts and decrypts by handle, and its handle is unknown once dropped', async () => {
    const he = worker();
    const key = await he.generateKey('agg-v1', FED);
    expect(key).toMatchObject({ presetId: 'agg-v1', federationId: FED });
    expect(key.fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    const values = Float64Array.from({ length: 20 }, (_, i) => i / 4 - 2);
    const parts = await he.encryptWeightedContribution(key.handle, values, 1, ROUND);
    const { mean } = await he.decryptWeightedMean(key.handle, parts, values.length);
    expect(Math.max(...mean.map((v, i) => Math.abs(v - (values[i] as number))))).toBeLessThan(1e-6);

    await he.dropKey(key.handle);
    const after = await he.encryptWeightedContribution(key.handle, values, 1, ROUND).catch((e: unknown) => e);
    expect(code(after)).toBe('unknown-key');
    expect((after as Error).message).toContain('dropped');
    expect(code(await he.inclusionMarkers(key.handle, 1, ['a']).catch((e: unknown) => e))).toBe('unknown-key');
    await he.dropKey(key.handle); // dropping twice is harmless
  });

  it("loadKey wipes the caller's copy at once, and the worker's markers are the ones the key bytes give", async () => {
    const he = worker();
    const mine = keyBytes.slice();
    const key = await he.loadKey(mine);
    expect(isZero(mine)).toBe(true);
    const [a, b] = await he.inclusionMarkers(key.handle, 7, ['clinic-a', 'clinic-b']);
    const secret = markerSecret(keyBytes, FED);
    expect(a).toEqual(markers(secret, FED, 7, 'clinic-a'));
    expect(b).toEqual(markers(secret, FED, 7, 'clinic-b'));
  });

  it("a dropped slot's envelope is zero-filled (loaded or made in the slot)", async () => {
    const handlers = heHandlers();
    const given = keyBytes.slice();
    const loaded = await handlers.loadKey({ key: given }); // in-process: the slot keeps this very array
    await handlers.encryptTokenBatch({ key: loaded.handle, tokens: [new Float32Array(8).fill(0.5)] }); // a SEAL session exists
    expect(isZero(given)).toBe(false);
    expect(handlers.dropKey({ key: loaded.handle })).toEqual({ dropped: true });
    expect(isZero(given)).toBe(true);

    const slots = new KeySlots((presetId) => HeContext.create(presetId));
    const made = await slots.adopt(await generateSecretKey(ctx, FED));
    const envelope = slots.envelope(made.handle);
    slots.markerSecret(made.handle);
    expect(slots.drop(made.handle)).toBe(true);
    expect(isZero(envelope)).toBe(true);
    expect(slots.size).toBe(0);
  });

  it('refuses what is not a secret key of a known preset, and wipes it', async () => {
    const he = worker();
    const header = decodeEnvelope(keyBytes);
    const foreign = encodeEnvelope({ ...header, presetHash: new Uint8Array(32).fill(7) });
    expect(code(await he.loadKey(foreign).catch((e: unknown) => e))).toBe('envelope:wrong-preset');
    const handlers = heHandlers();
    const ciphertextKind = encodeEnvelope({ ...header, kind: 'ciphertext' });
    expect(code(await handlers.loadKey({ key: ciphertextKind }).catch((e: unknown) => e))).toBe('envelope:wrong-kind');
    expect(isZero(ciphertextKind)).toBe(true);
  });

  it('seals one key or a bundle under a non-extractable CryptoKey and opens them into new slots; a wrong binding opens nothing', async () => {
    const he = worker();
    const aggregation = await he.loadKey(keyBytes.slice());
    const inference = await he.generateKey('inf-v1', FED);
    const wrapping = await aesKey();
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const bound = new TextEncoder().encode('vault slot fed-key-slots');

    const one = await he.sealKeys([aggregation.handle], wrapping, iv, bound);
    const [reopened, ...extra] = (await he.openSealedKeys(wrapping, iv, one, bound)) ?? [];
    expect(extra).toEqual([]);
    expect(reopened?.handle).not.toBe(aggregation.handle);
    expect(reopened).toMatchObject({ fingerprint: aggregation.fingerprint, presetId: 'agg-v1', federationId: FED });

    const both = await he.sealKeys([aggregation.handle, inference.handle], wrapping, iv, bound);
    const opened = await he.openSealedKeys(wrapping, iv, both, bound);
    expect(opened?.map((k) => [k.presetId, k.fingerprint])).toEqual([['agg-v1', aggregation.fingerprint], ['inf-v1', inference.fingerprint]]);

    expect(await he.openSealedKeys(wrapping, iv, both, new TextEncoder().encode('another slot'))).toBeNull();
    expect(await he.openSealedKeys(await aesKey(), iv, one, bound)).toBeNull();
  });

  it('a key file sealed by handle holds the same key, and opens into a slot with the same fingerprint', async () => {
    const he = worker();
    const key = await he.loadKey(keyBytes.slice());
    const file = await he.sealKeyFile(key.handle, 'slot passphrase');
    expect(await openKeyFile(file, 'slot passphrase')).toEqual(keyBytes);
    expect(await he.openKeyFile(file, 'slot passphrase')).toMatchObject({ fingerprint: key.fingerprint });
    expect(code(await he.openKeyFile(file, 'wrong passphrase').catch((e: unknown) => e))).toBe('bad-passphrase');
    expect(await he.dropAllKeys()).toBe(2);
    expect(code(await he.sealKeyFile(key.handle, 'slot passphrase').catch((e: unknown) => e))).toBe('unknown-key');
  });
});
