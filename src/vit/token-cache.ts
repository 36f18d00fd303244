// [CLS] token cache in IndexedDB (browser only), keyed by (image sha256, model sha256), so that
// reopening the page does not recompute tokens. Values are stored as Float32Array (structured clone).

const DB_NAME = 'cipherpath-vit-tokens';
const STORE = 'tokens';

let opening: Promise<IDBDatabase> | undefined;

function openDb(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`token cache: cannot open IndexedDB "${DB_NAME}": ${request.error?.message}`));
  }).catch((error: unknown) => {
    opening = undefined; // let a later call retry
    throw error;
  });
  return opening;
}

function run<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const transaction = db.transaction(STORE, mode);
        const request = body(transaction.objectStore(STORE));
        transaction.oncomplete = () => resolve(request.result);
        transaction.onerror = () => reject(new Error(`token cache: ${mode} failed: ${transaction.error?.message}`));
        transaction.onabort = () => reject(new Error(`token cache: ${mode} aborted: ${transaction.error?.message}`));
      }),
  );
}

/** The cached token, or undefined when this image was never embedded with this model. */
export async function getCachedTokens(imageSha256: string, modelSha256: string): Promise<Float32Array | undefined> {
  const value = await run<unknown>('readonly', (store) => store.get([imageSha256, modelSha256]));
  return value instanceof Float32Array ? value : undefined;
}

export async function putCachedTokens(imageSha256: string, modelSha256: string, tokens: Float32Array): Promise<void> {
  await run('readwrite', (store) => store.put(tokens, [imageSha256, modelSha256]));
}

/** Looks up many images at once (one transaction); entries are undefined where nothing is cached. */
export async function getManyCachedTokens(imageSha256s: readonly string[], modelSha256: string): Promise<(Float32Array | undefined)[]> {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, 'readonly');
    const store = transaction.objectStore(STORE);
    const requests = imageSha256s.map((sha) => store.get([sha, modelSha256]));
    transaction.oncomplete = () => resolve(requests.map((r) => (r.result instanceof Float32Array ? r.result : undefined)));
    transaction.onerror = () => reject(new Error(`token cache: read failed: ${transaction.error?.message}`));
  });
}
