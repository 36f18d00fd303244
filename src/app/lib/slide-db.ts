// What survives a reload of a slide's extraction, in IndexedDB `cipherpath-slide-tokens`: the [CLS] token of every
// grid tile extracted so far with its level-0 coordinates, keyed by slide identity (src/slide's fingerprint), model
// identity (modelSha256) and tile size at level 0, so a resumed run asks only for the missing tiles. Tile pixels are
// never stored. Beside them, one record per slide: its name and, where the browser gives one (File System Access),
// the file handle, so the slide can be reopened after a reload without picking it again.
import type { DBSchema } from 'idb';
import { database } from '../../common/idb.ts';

/** [fingerprint, modelSha256, size0, x, y] */
type TokenKey = [string, string, number, number, number];

export interface StoredSlideToken {
  fingerprint: string;
  modelSha256: string;
  x: number;
  y: number;
  size0: number;
  token: Float32Array;
}

export interface StoredSlide {
  fingerprint: string;
  name: string;
  /** Chromium's FileSystemFileHandle (structured-cloneable); absent where the browser has no File System Access */
  handle?: FileSystemFileHandle;
  savedAt: number;
}

interface SlideTokenSchema extends DBSchema {
  tokens: { key: TokenKey; value: StoredSlideToken };
  slides: { key: string; value: StoredSlide };
}

const store = database<SlideTokenSchema>({
  name: 'cipherpath-slide-tokens',
  version: 1,
  what: 'slide token store',
  upgrade: (db) => {
    db.createObjectStore('tokens', { keyPath: ['fingerprint', 'modelSha256', 'size0', 'x', 'y'] });
    db.createObjectStore('slides', { keyPath: 'fingerprint' });
  },
});

/** Every key of one slide, model and tile size: array keys sort after numbers, so [] closes the prefix range. */
const slideRange = (fingerprint: string, modelSha256: string, size0: number): IDBKeyRange => IDBKeyRange.bound([fingerprint, modelSha256, size0], [fingerprint, modelSha256, size0, []]);

export const tileKey = (x: number, y: number): string => `${x},${y}`;

/** The "x,y" of every tile already stored for this slide, model and tile size. */
export async function storedTileKeys(fingerprint: string, modelSha256: string, size0: number): Promise<Set<string>> {
  const keys = await store.use('read', (db) => db.getAllKeys('tokens', slideRange(fingerprint, modelSha256, size0)));
  return new Set(keys.map(([, , , x, y]) => tileKey(x, y)));
}

export async function storedTokens(fingerprint: string, modelSha256: string, size0: number): Promise<StoredSlideToken[]> {
  return store.use('read', (db) => db.getAll('tokens', slideRange(fingerprint, modelSha256, size0)));
}

/** Tokens stored for this slide with any model and tile size (what the page reports after a reload). */
export async function countSlideTokens(fingerprint: string): Promise<number> {
  return store.use('count', (db) => db.count('tokens', IDBKeyRange.bound([fingerprint], [fingerprint, []])));
}

/** One batch in one transaction: a reload loses at most the batch in flight. */
export async function putSlideTokens(tokens: readonly StoredSlideToken[]): Promise<void> {
  await store.use('write', async (db) => {
    const tx = db.transaction('tokens', 'readwrite');
    await Promise.all([...tokens.map((t) => tx.store.put(t)), tx.done]);
  });
}

export async function rememberSlide(slide: StoredSlide): Promise<void> {
  await store.use('write', async (db) => {
    const previous = await db.get('slides', slide.fingerprint);
    // a slide picked through the file input keeps the handle an earlier pick stored
    const handle = slide.handle ?? previous?.handle;
    await db.put('slides', handle ? { ...slide, handle } : slide);
  });
}

/** The slides this browser extracted from, the most recent first. */
export async function rememberedSlides(): Promise<StoredSlide[]> {
  const slides = await store.use('read', (db) => db.getAll('slides'));
  return slides.sort((a, b) => b.savedAt - a.savedAt);
}
