// The blob stores other than the filesystem one: S3 against s3rver (a real S3 HTTP server on the filesystem,
// reached through @aws-sdk/client-s3), and Postgres bytea in the postgres project. Both must return the bytes they
// were given, store the same bytes once, and refuse to serve a corrupted copy.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../common/sha256.ts';
import { PostgresBlobStore } from './postgres-blobs.ts';
import { PostgresDriver } from './postgres-driver.ts';
import { parseS3Url, S3BlobStore } from './s3-blobs.ts';
import type { BlobStore } from './types.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const bytes = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);

async function roundTrip(store: BlobStore): Promise<string> {
  const sha = await store.put(bytes);
  expect(sha).toBe(sha256Hex(bytes));
  expect(await store.put(bytes)).toBe(sha);
  expect(Array.from(await store.get(sha)).slice(0, 5)).toEqual(Array.from(bytes).slice(0, 5));
  expect((await store.get(sha)).byteLength).toBe(bytes.byteLength);
  expect(await store.list()).toEqual([sha]);
  // Just stored: spared by a collection of what was stored over a minute ago, listed by one up to a minute ahead.
  expect(await store.list(new Date(Date.now() - 60_000))).toEqual([]);
  expect(await store.list(new Date(Date.now() + 60_000))).toEqual([sha]);
  expect(await store.usage()).toBe(bytes.byteLength);
  return sha;
}

describe('S3 blob store', () => {
  it('parses s3:// locations and refuses others with the expected form', () => {
    expect(parseS3Url('s3://cipherpath-blobs/site-a/')).toEqual({ bucket: 'cipherpath-blobs', prefix: 'site-a/' });
    expect(parseS3Url('s3://cipherpath-blobs')).toEqual({ bucket: 'cipherpath-blobs', prefix: '' });
    expect(() => parseS3Url('s3://A')).toThrow(/s3:\/\/bucket\[\/prefix\]/);
  });

  it('round-trips through a real S3 server byte for byte and refuses a corrupted object', async () => {
    const { default: S3rver } = await import('s3rver');
    const dir = mkdtempSync(join(tmpdir(), 'cipherpath-s3-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'blobs' }] });
    const { port } = await server.run();
    cleanups.push(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const store = new S3BlobStore(parseS3Url('s3://blobs/round-data'), { endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const sha = await roundTrip(store);
    // Corrupt the object where s3rver keeps it: the store must not serve it.
    const find = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? find(join(d, n)) : [join(d, n)]));
    const object = find(dir).find((f) => f.includes(sha) && !f.endsWith('.json') && statSync(f).size === bytes.byteLength);
    expect(object).toBeDefined();
    writeFileSync(object as string, new Uint8Array(bytes.byteLength));
    await expect(store.get(sha)).rejects.toThrow(/corrupt/);
    await store.delete(sha);
    expect(await store.list()).toEqual([]);
  });
});

describe.runIf(process.env.DATABASE_URL)('Postgres blob store', () => {
  it('round-trips bytea rows and refuses a corrupted row', async () => {
    const driver = await PostgresDriver.open(process.env.DATABASE_URL as string);
    cleanups.push(() => driver.close());
    const store = new PostgresBlobStore(driver);
    const sha = await roundTrip(store);
    await driver.run('UPDATE blobs SET data = ? WHERE sha256 = ?', new Uint8Array(10), sha);
    await expect(store.get(sha)).rejects.toThrow(/corrupt/);
  });
});
