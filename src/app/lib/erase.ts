// "Erase all local data": every IndexedDB database of this origin (keys, tiles, token cache), a picked model folder
// (Cache API) and localStorage. A
// database that another connection keeps open cannot be deleted until it closes, so the erase is finished again at
// the next start, before anything opens a database.
import { forgetModelChoice } from './model-choice.ts';

const PENDING = 'cipherpath-erase-pending';

function deleteDatabase(name: string): Promise<'deleted' | 'blocked'> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve('deleted');
    req.onerror = () => reject(new Error(`could not delete the database ${name}: ${req.error?.message}`));
    req.onblocked = () => resolve('blocked');
  });
}

async function deleteAllDatabases(): Promise<boolean> {
  const names = (await indexedDB.databases()).map((d) => d.name).filter((n): n is string => typeof n === 'string');
  const results = await Promise.all(names.map(deleteDatabase));
  return results.every((r) => r === 'deleted');
}

/** Returns true when everything is gone now, false when the rest is removed at the reload that must follow. */
export async function eraseAllLocalData(): Promise<boolean> {
  await forgetModelChoice();
  localStorage.clear();
  sessionStorage.setItem(PENDING, '1');
  // The flag stays until the next start, which clears localStorage once more: a store may write between now and the
  // reload.
  return deleteAllDatabases();
}

/** Called at start-up, before the app opens any database. */
export async function finishPendingErase(): Promise<void> {
  if (sessionStorage.getItem(PENDING) === null) return;
  localStorage.clear();
  if (await deleteAllDatabases()) sessionStorage.removeItem(PENDING);
}
