// The clinic's tile library in IndexedDB: the original file bytes (to re-decode for extraction), a PNG thumbnail and
// the label, keyed by the file's sha256. A reload therefore loses no tile; tokens live in src/vit's token cache.
import type { TileFormat } from './files.ts';
import type { ClassLabel } from '../../protocol/vocabulary.ts';

export const TILE_DB_NAME = 'cipherpath-tiles';
const STORE = 'tiles';

export interface StoredTile {
  id: string;
  name: string;
  path: string;
  label: ClassLabel | null;
  format: TileFormat;
  width: number;
  height: number;
  size: number;
  addedAt: number;
  file: Blob;
  thumb: Blob;
}

let opening: Promise<IDBDatabase> | undefined;

function openDb(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(TILE_DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => {
      // Let "erase all local data" delete the database instead of waiting on this connection.
      req.result.onversionchange = () => {
        req.result.close();
        opening = undefined;
      };
      resolve(req.result);
    };
    req.onerror = () => reject(new Error(`tile library: cannot open IndexedDB "${TILE_DB_NAME}": ${req.error?.message}`));
  }).catch((e: unknown) => {
    opening = undefined;
    throw e;
  });
  return opening;
}

async function transact<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = body(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(new Error(`tile library: ${mode} failed: ${tx.error?.message}`));
    tx.onabort = () => reject(new Error(`tile library: ${mode} aborted: ${tx.error?.message ?? 'storage full?'}`));
  });
}

export async function allTiles(): Promise<StoredTile[]> {
  const tiles = (await transact<StoredTile[]>('readonly', (s) => s.getAll())) ?? [];
  return tiles.sort((a, b) => a.addedAt - b.addedAt || a.path.localeCompare(b.path));
}

export async function putTiles(tiles: readonly StoredTile[]): Promise<void> {
  await transact('readwrite', (s) => {
    for (const t of tiles) s.put(t);
  });
}

export async function setLabels(labels: ReadonlyMap<string, ClassLabel>): Promise<void> {
  const tiles = await allTiles();
  const changed = tiles.filter((t) => labels.has(t.id) && labels.get(t.id) !== t.label).map((t) => ({ ...t, label: labels.get(t.id) ?? null }));
  if (changed.length) await putTiles(changed);
}

export async function getTileFile(id: string): Promise<StoredTile | undefined> {
  return transact<StoredTile | undefined>('readonly', (s) => s.get(id));
}

export async function deleteTiles(ids: readonly string[] | 'all'): Promise<void> {
  await transact('readwrite', (s) => {
    if (ids === 'all') s.clear();
    else for (const id of ids) s.delete(id);
  });
}
