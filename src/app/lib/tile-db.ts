// The clinic's tile library in IndexedDB: the original file bytes (to re-decode for extraction), a PNG thumbnail and
// the label, keyed by the file's sha256. A reload therefore loses no tile; tokens live in src/vit's token cache.
import type { DBSchema } from 'idb';
import { database } from '../../common/idb.ts';
import type { ClassLabel } from '../../protocol/vocabulary.ts';
import type { TileFormat } from './files.ts';

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

interface TileSchema extends DBSchema {
  tiles: { key: string; value: StoredTile };
}

const library = database<TileSchema>({
  name: 'cipherpath-tiles',
  version: 1,
  what: 'tile library',
  upgrade: (db) => void db.createObjectStore('tiles', { keyPath: 'id' }),
});

export async function allTiles(): Promise<StoredTile[]> {
  const tiles = await library.use('read', (db) => db.getAll('tiles'));
  return tiles.sort((a, b) => a.addedAt - b.addedAt || a.path.localeCompare(b.path));
}

export async function putTiles(tiles: readonly StoredTile[]): Promise<void> {
  await library.use('write', async (db) => {
    const tx = db.transaction('tiles', 'readwrite');
    await Promise.all([...tiles.map((t) => tx.store.put(t)), tx.done]);
  });
}

export async function setLabels(labels: ReadonlyMap<string, ClassLabel>): Promise<void> {
  const tiles = await allTiles();
  const changed = tiles.filter((t) => labels.has(t.id) && labels.get(t.id) !== t.label).map((t) => ({ ...t, label: labels.get(t.id) ?? null }));
  if (changed.length) await putTiles(changed);
}

export async function getTileFile(id: string): Promise<StoredTile | undefined> {
  return library.use('read', (db) => db.get('tiles', id));
}

export async function deleteTiles(ids: readonly string[] | 'all'): Promise<void> {
  await library.use('delete', async (db) => {
    const tx = db.transaction('tiles', 'readwrite');
    await Promise.all([...(ids === 'all' ? [tx.store.clear()] : ids.map((id) => tx.store.delete(id))), tx.done]);
  });
}
