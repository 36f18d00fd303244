// [CLS] token cache in IndexedDB (browser only), keyed by (image sha256, model sha256), so that
// reopening the page does not recompute tokens. Values are stored as Float32Array (structured clone).
import type { DBSchema } from 'idb';
import { database } from '../common/idb.ts';

interface TokenSchema extends DBSchema {
  tokens: { key: [string, string]; value: Float32Array };
}

const cache = database<TokenSchema>({
  name: 'cipherpath-vit-tokens',
  version: 1,
  what: 'token cache',
  upgrade: (db) => void db.createObjectStore('tokens'),
});

const asTokens = (value: unknown): Float32Array | undefined => (value instanceof Float32Array ? value : undefined);

/** The cached token, or undefined when this image was never embedded with this model. */
export async function getCachedTokens(imageSha256: string, modelSha256: string): Promise<Float32Array | undefined> {
  return asTokens(await cache.use('read', (db) => db.get('tokens', [imageSha256, modelSha256])));
}

export async function putCachedTokens(imageSha256: string, modelSha256: string, tokens: Float32Array): Promise<void> {
  await cache.use('write', (db) => db.put('tokens', tokens, [imageSha256, modelSha256]));
}

/** Looks up many images at once (one transaction); entries are undefined where nothing is cached. */
export async function getManyCachedTokens(imageSha256s: readonly string[], modelSha256: string): Promise<(Float32Array | undefined)[]> {
  return cache.use('read', async (db) => {
    const tx = db.transaction('tokens', 'readonly');
    const [values] = await Promise.all([Promise.all(imageSha256s.map((sha) => tx.store.get([sha, modelSha256]))), tx.done]);
    return values.map(asTokens);
  });
}
