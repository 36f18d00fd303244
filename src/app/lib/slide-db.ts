// What survives a reload of a slide's extraction, in IndexedDB `cipherpath-slide-tokens`: the [CLS] token of every
// grid tile extracted so far with its level-0 coordinates, keyed by slide identity (src/slide's fingerprint), model
// identity (modelSha256) and tile size at level 0, so a resumed run asks only for the missing tiles. Tile pixels are
// never stored. Beside them, one record per slide (the slide library, stores/slide-library.ts): its name, label, what
// the reader said of it, the last tissue-tile count and, where the browser gives one (File System Access), the file
// handle, so the slide can be reopened after a reload without picking it again.
import type { DBSchema } from 'idb';
import { database } from '../../common/idb.ts';
import type { ClassLabel } from '../../protocol/vocabulary.ts';

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

/** What the library shows of a slide without opening it again. */
export interface SlideSummary {
  width: number;
  height: number;
  vendor: string;
  levels: number;
  /** µm per level-0 pixel (x), the file's; null when it does not say */
  mpp: number | null;
  byteLength: number;
}

export interface StoredSlide {
  fingerprint: string;
  name: string;
  /** Chromium's FileSystemFileHandle (structured-cloneable); absent where the browser has no File System Access */
  handle?: FileSystemFileHandle;
  savedAt: number;
  /** v2: the slide's class (folder name, CSV or typed in); absent or null: unlabelled */
  label?: ClassLabel | null;
  /** v2: absent for slides stored by version 1 until they are opened again */
  info?: SlideSummary;
  /** v2: the tissue tiles of the last tiling computed for it (tile side at level 0 and their number) */
  grid?: { size0: number; tiles: number };
}

interface SlideTokenSchema extends DBSchema {
  tokens: { key: TokenKey; value: StoredSlideToken };
  slides: { key: string; value: StoredSlide };
}

const store = database<SlideTokenSchema>({
  name: 'cipherpath-slide-tokens',
  version: 2,
  what: 'slide token store',
  upgrade: (db, oldVersion) => {
    if (oldVersion < 1) {
      db.createObjectStore('tokens', { keyPath: ['fingerprint', 'modelSha256', 'size0', 'x', 'y'] });
      db.createObjectStore('slides', { keyPath: 'fingerprint' });
    }
    // 1 → 2: slide records gain the optional label, info and grid; version 1's records are kept as they are (read as
    // unlabelled, their info filled in when the slide is opened again), and so are all tokens.
  },
});

/** Every key of one slide (any model, tile size). */
const fingerprintRange = (fingerprint: string): IDBKeyRange => IDBKeyRange.bound([fingerprint], [fingerprint, []]);
/** Every key of one slide and model (any tile size). */
const modelRange = (fingerprint: string, modelSha256: string): IDBKeyRange => IDBKeyRange.bound([fingerprint, modelSha256], [fingerprint, modelSha256, []]);

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
  return store.use('count', (db) => db.count('tokens', fingerprintRange(fingerprint)));
}

/** Tokens stored for this slide with this model, any tile size. */
export async function countSlideTokensForModel(fingerprint: string, modelSha256: string): Promise<number> {
  return store.use('count', (db) => db.count('tokens', modelRange(fingerprint, modelSha256)));
}

/** Every token stored for this slide with this model, any tile size, in key order (size0, x, y). */
export async function slideTokensForModel(fingerprint: string, modelSha256: string): Promise<StoredSlideToken[]> {
  return store.use('read', (db) => db.getAll('tokens', modelRange(fingerprint, modelSha256)));
}

/** One batch in one transaction: a reload loses at most the batch in flight. */
export async function putSlideTokens(tokens: readonly StoredSlideToken[]): Promise<void> {
  await store.use('write', async (db) => {
    const tx = db.transaction('tokens', 'readwrite');
    await Promise.all([...tokens.map((t) => tx.store.put(t)), tx.done]);
  });
}

/** Stores the slide's record, keeping what an earlier record had and this one does not say (handle, label, info, grid). */
export async function rememberSlide(slide: StoredSlide): Promise<StoredSlide> {
  return store.use('write', async (db) => {
    const tx = db.transaction('slides', 'readwrite');
    const previous = await tx.store.get(slide.fingerprint);
    // a slide picked through the file input keeps the handle an earlier pick stored, and a reopened slide its label
    const given = Object.fromEntries(Object.entries(slide).filter(([, value]) => value !== undefined)) as unknown as StoredSlide;
    const merged: StoredSlide = { ...previous, ...given };
    await Promise.all([tx.store.put(merged), tx.done]);
    return merged;
  });
}

/** Changes fields of a stored slide; null when there is no such slide. */
export async function updateSlide(fingerprint: string, patch: Partial<Omit<StoredSlide, 'fingerprint'>>): Promise<StoredSlide | null> {
  return store.use('write', async (db) => {
    const tx = db.transaction('slides', 'readwrite');
    const previous = await tx.store.get(fingerprint);
    const updated = previous ? { ...previous, ...patch, fingerprint } : null;
    await Promise.all([updated ? tx.store.put(updated) : undefined, tx.done]);
    return updated;
  });
}

/** Forgets a slide: its record and every token stored for it, in one transaction. */
export async function removeSlide(fingerprint: string): Promise<void> {
  await store.use('write', async (db) => {
    const tx = db.transaction(['slides', 'tokens'], 'readwrite');
    await Promise.all([tx.objectStore('slides').delete(fingerprint), tx.objectStore('tokens').delete(fingerprintRange(fingerprint)), tx.done]);
  });
}

/** The slides this browser extracted from, the most recent first. */
export async function rememberedSlides(): Promise<StoredSlide[]> {
  const slides = await store.use('read', (db) => db.getAll('slides'));
  return slides.sort((a, b) => b.savedAt - a.savedAt);
}
