// Local custody of the federation secret key: stored in IndexedDB encrypted (AES-GCM) under a non-extractable
// WebCrypto key that lives in the same database. Script on this origin can use the key but never read it out, and
// the stored bytes alone are useless on another machine. The AES-GCM step runs in the HE worker, which is handed the
// (non-extractable) wrapping key: a stored key opens straight into a worker key slot and is stored from one, so this
// page only ever moves ciphertext. (Reading IndexedDB in the worker would save nothing: the stored entry is
// ciphertext either way, and the vault would need a second IndexedDB client.)
import type { DBSchema } from 'idb';
import { database } from '../../common/idb.ts';
import { type ClinicIdentity, createClinicIdentity } from '../../custody/identity.ts';
import type { KeyHandle, KeyInfo } from '../../he/key-slots.ts';
import { heWorker } from '../workers.ts';

const WRAPPING_KEY_ID = 'wrapping-key';

interface SealedKey {
  iv: Uint8Array;
  sealed: ArrayBuffer;
}

/** One store, keyed by `wrapping-key`, `sk:<slot>` (a SealedKey) and `id:<slot>` (a ClinicIdentity). */
interface VaultSchema extends DBSchema {
  vault: { key: string; value: CryptoKey | SealedKey | ClinicIdentity };
}

const vault = database<VaultSchema>({
  name: 'cipherpath-keys',
  version: 1,
  what: 'key vault',
  upgrade: (db) => void db.createObjectStore('vault'),
});

const read = <T extends VaultSchema['vault']['value']>(key: string) => vault.use('read', async (db) => (await db.get('vault', key)) as T | undefined);
const write = (key: string, value: VaultSchema['vault']['value']) => vault.use('write', (db) => db.put('vault', value, key));

async function wrappingKey(): Promise<CryptoKey> {
  const existing = await read<CryptoKey>(WRAPPING_KEY_ID);
  if (existing) return existing;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await write(WRAPPING_KEY_ID, key);
  return key;
}

const slotBinding = (slot: string) => new TextEncoder().encode(slot);

/** Seals the key in worker slot `key` into vault slot `slot` (AES-GCM in the worker, the slot name as associated data). */
export async function storeSecretKey(slot: string, key: KeyHandle): Promise<void> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await heWorker().sealKeys([key], await wrappingKey(), iv, slotBinding(slot));
  await write(`sk:${slot}`, { iv, sealed: sealed.buffer as ArrayBuffer });
}

/** Opens vault slot `slot` into a new worker key slot; undefined when the vault holds no such key. */
export async function loadSecretKey(slot: string): Promise<KeyInfo | undefined> {
  const entry = await read<SealedKey>(`sk:${slot}`);
  if (!entry) return undefined;
  const opened = await heWorker().openSealedKeys(await wrappingKey(), entry.iv, new Uint8Array(entry.sealed), slotBinding(slot));
  if (!opened) throw new Error(`the key in vault slot ${slot} does not open under this browser's vault key (it was altered, or copied from another browser)`);
  const [key] = opened;
  if (opened.length !== 1 || !key) throw new Error(`vault slot ${slot} holds ${opened.length} keys, not 1`);
  return key;
}

export async function hasSecretKey(slot: string): Promise<boolean> {
  return (await read<SealedKey>(`sk:${slot}`)) !== undefined;
}

/** This clinic's ECDH identity for key relay; the private key is non-extractable and never leaves IndexedDB. */
export async function loadOrCreateIdentity(slot: string): Promise<ClinicIdentity> {
  const existing = await read<ClinicIdentity>(`id:${slot}`);
  if (existing) return existing;
  const identity = await createClinicIdentity(false);
  await write(`id:${slot}`, identity);
  return identity;
}
