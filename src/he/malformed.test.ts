// >= 100 malformed envelopes, each rejected with a specific error code (never a crash, a hang or a generic error).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_KIND_CODES, decodeEnvelope, encodeEnvelope, envelopeHeaderBytes } from '../protocol/envelope.ts';
import { HeContext } from './context.ts';
import { HeError } from './errors.ts';
import { heHandlers, heWireError } from './handlers.ts';
import { loopbackPair } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import type { RpcMessage } from '../rpc/rpc.ts';
import { seededRandom, syntheticTokens } from './testing.ts';
import { encryptTokenBatch, generateSecretKey } from './tokens.ts';

const FED = 'fed-malformed';

interface Case {
  name: string;
  bytes: Uint8Array;
  code: HeError['code'];
}

describe('malformed ciphertext envelopes', () => {
  let agg: HeContext;
  let inf: HeContext;
  const cases: Case[] = [];

  beforeAll(async () => {
    agg = await HeContext.create('agg-v1');
    inf = await HeContext.create('inf-v1');
    const key = await generateSecretKey(agg, FED);
    const [valid] = await encryptTokenBatch(agg, key, FED, syntheticTokens(1, 768, 1));
    const good = valid as Uint8Array;
    const env = decodeEnvelope(good);
    const header = envelopeHeaderBytes(FED);
    const rand = seededRandom(99);
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand.uniform() * 256));
    const add = (name: string, bytes: Uint8Array, code: HeError['code']) => cases.push({ name, bytes, code });
    const patched = (at: number, value: number) => {
      const b = good.slice();
      b[at] = value;
      return b;
    };
    const rewrap = (over: Partial<Parameters<typeof encodeEnvelope>[0]>) => encodeEnvelope({ ...env, ...over });

    // Truncated: inside the header, and at many points of the payload.
    for (const n of [0, 1, 3, 4, 5, 6, 7, 10, 20, 30, header - 1]) add(`cut to ${n} bytes`, good.slice(0, n), 'envelope:truncated');
    for (let i = 1; i <= 20; i++) {
      const n = header + Math.floor(((good.length - header) * i) / 21);
      add(`payload cut to ${n} bytes`, good.slice(0, n), 'envelope:truncated');
    }
    // Declared length shorter than what follows: trailing garbage.
    for (const extra of [1, 7, 4096]) {
      const b = new Uint8Array(good.length + extra);
      b.set(good);
      add(`${extra} trailing bytes`, b, 'envelope:length-mismatch');
    }
    // Magic.
    for (let i = 0; i < 4; i++) add(`magic byte ${i} flipped`, patched(i, (good[i] as number) ^ 0x20), 'envelope:bad-magic');
    add('zip file', Uint8Array.of(0x50, 0x4b, 3, 4, ...randomBytes(200)), 'envelope:bad-magic');
    add('SEAL bytes without envelope', env.payload.slice(), 'envelope:bad-magic');
    // Random bytes of many lengths.
    for (let i = 0; i < 15; i++) add(`random ${i}`, randomBytes(8 + i * 997), 'envelope:bad-magic');
    // Version and kind.
    for (const v of [0, 2, 3, 127, 255]) add(`version ${v}`, patched(4, v), 'envelope:bad-version');
    for (const k of [0, 7, 8, 100, 255]) add(`kind code ${k}`, patched(5, k), 'envelope:bad-kind');
    for (const [kind, code] of Object.entries(ENVELOPE_KIND_CODES)) {
      if (kind !== 'ciphertext') add(`kind ${kind}`, patched(5, code), 'envelope:wrong-kind');
    }
    // Federation id field.
    add('federation id length 0', patched(6, 0), 'envelope:bad-federation-id');
    add('federation id length 200', patched(6, 200), 'envelope:bad-federation-id');
    add('federation id not utf-8', patched(7, 0xc3), 'envelope:bad-federation-id');
    for (const other of ['fed-other', 'fed-malformeD', 'fed-malformed ', 'f', 'fed-malformed-2']) {
      add(`federation ${other}`, rewrap({ federationId: other }), 'envelope:wrong-federation');
    }
    add('federation id length off by one', patched(6, FED.length - 1), 'envelope:wrong-federation');
    // Preset hash.
    for (let i = 0; i < 32; i += 4) add(`preset hash byte ${i} flipped`, patched(header - 36 + i, (good[header - 36 + i] as number) ^ 1), 'envelope:wrong-preset');
    add('preset hash of inf-v1', rewrap({ presetHash: inf.presetHash }), 'envelope:wrong-preset');
    // Sizes.
    for (const n of [4 * 1024 * 1024 + 1, 5 * 1024 * 1024]) add(`${n}-byte envelope`, new Uint8Array(n), 'envelope:too-large');
    for (const declared of [0xffffffff, 0x7fffffff, 5 * 1024 * 1024]) {
      const b = good.slice(0, header);
      new DataView(b.buffer).setUint32(header - 4, declared);
      add(`declared payload ${declared}`, b, 'envelope:too-large');
    }
    add('empty payload', rewrap({ payload: new Uint8Array(0) }), 'envelope:truncated');
    // Valid envelope, bad SEAL payload: random, bit-flipped, or valid SEAL bytes for another context.
    for (let i = 0; i < 10; i++) add(`random payload ${i}`, rewrap({ payload: randomBytes(16 + i * 3001) }), 'seal');
    // 16 bytes of 0xff contain a whole aligned 64-bit coefficient >= q. (A flip that keeps every coefficient below
    // q yields another valid ciphertext: CKKS ciphertexts are malleable; authenticity is the transport's job.)
    for (let i = 0; i < 6; i++) {
      const p = env.payload.slice();
      p.fill(0xff, 100 + i * 9000, 116 + i * 9000);
      add(`coefficients at ${100 + i * 9000} set to 2^64-1`, rewrap({ payload: p }), 'seal');
    }
    for (const at of [0, 1, 2, 3, 4, 5, 8, 15]) {
      const p = env.payload.slice();
      p[at] = (p[at] as number) ^ 0x40;
      add(`SEAL header byte ${at} flipped`, rewrap({ payload: p }), 'seal');
    }
    const sizeBomb = env.payload.slice();
    new DataView(sizeBomb.buffer).setBigUint64(8, 2n ** 40n, true);
    add('SEAL header declares 1 TiB', rewrap({ payload: sizeBomb }), 'seal');
    const infKey = await generateSecretKey(inf, FED);
    const [infCt] = await encryptTokenBatch(inf, infKey, FED, syntheticTokens(1, 768, 2));
    add('inf-v1 ciphertext relabelled as agg-v1', rewrap({ payload: decodeEnvelope(infCt as Uint8Array).payload }), 'seal');
    add('agg-v1 secret key as ciphertext payload', rewrap({ payload: decodeEnvelope(key).payload }), 'seal');
    add('inf-v1 secret key as ciphertext payload', rewrap({ payload: decodeEnvelope(infKey).payload }), 'seal');
    add('secret key envelope', key, 'envelope:wrong-kind');
  });

  afterAll(() => {
    agg.dispose();
    inf.dispose();
  });

  it('has at least 100 cases', () => expect(cases.length).toBeGreaterThanOrEqual(100));

  it('rejects each with its specific code and a readable message', () => {
    const wrong: string[] = [];
    for (const c of cases) {
      try {
        agg.loadCiphertext(c.bytes, FED, c.name).delete();
        wrong.push(`${c.name}: accepted`);
      } catch (e) {
        if (!(e instanceof HeError)) wrong.push(`${c.name}: ${String(e)}`);
        else if (e.code !== c.code || e.message.includes('[object')) wrong.push(`${c.name}: ${e.code} ${e.message}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('crosses the worker protocol as {code, message}', async () => {
    const c = cases.find((x) => x.code === 'seal') as Case;
    const [client, server] = loopbackPair();
    serveRpc(heHandlers(), server, { toWireError: heWireError });
    const reply = await new Promise<RpcMessage>((resolve) => {
      client.listen(resolve);
      client.post({ kind: 'call', id: 1, method: 'validateCiphertext', args: { presetId: 'agg-v1', federationId: FED, ciphertext: c.bytes } }, []);
    });
    expect(reply).toMatchObject({ id: 1, kind: 'reply', err: { code: 'seal' } });
  });
});
