// Local custody of the federation secret key: stored in IndexedDB encrypted (AES-GCM) under a non-extractable
// WebCrypto key that lives in the same database. Script on this origin can use the key but never read it out, and
// the stored bytes alone are useless on another machine.
import { type ClinicIdentity, createClinicIdentity } from '../../custody/identity.ts';

const DB_NAME = 'cipherpath-keys';
const STORE = 'vault';
const WRAPPING_KEY_ID = 'wrapping-key';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
  });
}

function idb<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = fn(tx.objectStore(STORE));
        tx.oncomplete = () => {
          db.close();
          resolve(req.result as T);
        };
        tx.onerror = () => {
          db.close();
          reject(tx.error ?? new Error('IndexedDB transaction failed'));
        };
      }),
  );
}

async function wrappingKey(): Promise<CryptoKey> {
  const existing = await idb<CryptoKey | undefined>('readonly', (s) => s.get(WRAPPING_KEY_ID));
  if (existing) return existing;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await idb('readwrite', (s) => s.put(key, WRAPPING_KEY_ID));
  return key;
}

export async function storeSecretKey(slot: string, secretKey: Uint8Array): Promise<void> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(slot) }, await wrappingKey(), secretKey as BufferSource);
  await idb('readwrite', (s) => s.put({ iv, sealed }, `sk:${slot}`));
}

export async function loadSecretKey(slot: string): Promise<Uint8Array | undefined> {
  const entry = await idb<{ iv: Uint8Array; sealed: ArrayBuffer } | undefined>('readonly', (s) => s.get(`sk:${slot}`));
  if (!entry) return undefined;
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: entry.iv as BufferSource, additionalData: new TextEncoder().encode(slot) },
    await wrappingKey(),
    entry.sealed,
  );
  return new Uint8Array(plain);
}

/** This clinic's ECDH identity for key relay; the private key is non-extractable and never leaves IndexedDB. */
export async function loadOrCreateIdentity(slot: string): Promise<ClinicIdentity> {
  const existing = await idb<ClinicIdentity | undefined>('readonly', (s) => s.get(`id:${slot}`));
  if (existing) return existing;
  const identity = await createClinicIdentity(false);
  await idb('readwrite', (s) => s.put(identity, `id:${slot}`));
  return identity;
}

export async function eraseVault(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error('could not erase the key vault'));
  });
}
