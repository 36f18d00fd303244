// "Erase all local data": the HE worker's key slots (zero-filled), every IndexedDB database of this origin (keys,
// tiles, token cache), a picked model folder (Cache API) and localStorage. This page's connections are closed first and refuse to reopen until the reload that
// follows, and every other connection (other tabs, workers) closes on the delete's versionchange (src/common/idb.ts),
// so the databases are gone when this resolves.
import { deleteDatabase, shutDownDatabases } from '../../common/idb.ts';
import { startedHeWorker } from '../workers.ts';
import { forgetModelChoice } from './model-choice.ts';

export async function eraseAllLocalData(): Promise<void> {
  await startedHeWorker()?.dropAllKeys();
  await forgetModelChoice();
  await shutDownDatabases();
  localStorage.clear();
  const names = (await indexedDB.databases()).map((d) => d.name).filter((n): n is string => typeof n === 'string');
  await Promise.all(names.map((name) => deleteDatabase(name)));
}

/** Reloads `path` once erased; localStorage is cleared again first, since a store may have written since. */
export function reloadErased(path: string): void {
  localStorage.clear();
  window.location.assign(path);
}
