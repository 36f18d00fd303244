// IndexedDB with one set of rules for every database of the project (key vault, tile library, token cache), on
// `idb`: one connection per database per realm, opened on first use and reused; a versionchange from anywhere (another
// tab upgrading, "erase all local data" deleting) closes it at once, so deletes and upgrades are never blocked by us;
// a connection the browser terminates is forgotten and the next call reopens. Browsers and workers only (Node has no
// IndexedDB); nothing here knows a schema.
import { type DBSchema, deleteDB, type IDBPDatabase, openDB } from 'idb';

export interface DatabaseSpec<S extends DBSchema> {
  name: string;
  version: number;
  /** Who owns it, for error messages ("tile library"). */
  what: string;
  upgrade(db: IDBPDatabase<S>, oldVersion: number): void;
}

export interface Database<S extends DBSchema> {
  /** Runs `work` on the shared connection; a failure names the database and the step ("tile library: write failed: …"). */
  use<T>(step: string, work: (db: IDBPDatabase<S>) => Promise<T>): Promise<T>;
}

const connections = new Map<string, Promise<{ close(): void }>>();
let shutDown = false;

function connect<S extends DBSchema>(spec: DatabaseSpec<S>): Promise<IDBPDatabase<S>> {
  if (shutDown) return Promise.reject(new Error(`${spec.what}: local data was erased; reload the page`));
  const cached = connections.get(spec.name) as Promise<IDBPDatabase<S>> | undefined;
  if (cached) return cached;
  const forget = () => {
    if (connections.get(spec.name) === connection) connections.delete(spec.name);
  };
  const connection: Promise<IDBPDatabase<S>> = openDB<S>(spec.name, spec.version, {
    upgrade: (db, oldVersion) => spec.upgrade(db, oldVersion),
    blocking: (_current, _next, event) => {
      forget();
      (event.target as IDBDatabase).close();
    },
    terminated: forget,
  }).catch((error: unknown) => {
    forget();
    throw new Error(`${spec.what}: cannot open IndexedDB "${spec.name}": ${(error as Error).message}`, { cause: error });
  });
  connections.set(spec.name, connection);
  return connection;
}

export function database<S extends DBSchema>(spec: DatabaseSpec<S>): Database<S> {
  return {
    async use(step, work) {
      const db = await connect(spec);
      try {
        return await work(db);
      } catch (error) {
        // A transaction aborted for lack of space carries no error of its own: say what probably happened.
        const reason = (error as Error | null)?.message ?? 'aborted (storage full?)';
        throw new Error(`${spec.what}: ${step} failed: ${reason}`, { cause: error });
      }
    },
  };
}

/** Closes every connection of this realm and refuses new ones until the page reloads (erasing all local data). */
export async function shutDownDatabases(): Promise<void> {
  shutDown = true;
  const open = [...connections.values()];
  connections.clear();
  await Promise.all(open.map((c) => c.then((db) => db.close(), () => undefined)));
}

/**
 * Deletes a database. Every connection made here closes on the delete's versionchange; one that does not (an old
 * cipherpath tab) blocks it, and after `blockedMs` that is reported so the user can close it (the delete itself stays
 * queued and finishes when that connection closes).
 */
export function deleteDatabase(name: string, blockedMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    deleteDB(name, {
      blocked: () => {
        timer ??= setTimeout(() => reject(new Error(`the database ${name} is still open in another cipherpath tab or window`)), blockedMs);
      },
    }).then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(new Error(`could not delete the database ${name}: ${(error as Error).message}`, { cause: error }));
      },
    );
  });
}
