// Local custody of the federation secret key: stored in IndexedDB encrypted (AES-GCM) under a non-extractable
// WebCrypto key that lives in the same database. Script on this origin can use the key but never read it out, and
// the stored bytes alone are useless on another machine.
import type { DBSchema } from 'idb';
import { database } from '../../common/idb.ts';
import { type ClinicIdentity, createClinicIdentity } from '../../custody/identity.ts';

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

export async function storeSecretKey(slot: string, secretKey: Uint8Array): Promise<void> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(slot) }, await wrappingKey(), secretKey as BufferSource);
  await write(`sk:${slot}`, { iv, sealed });
}

export async function loadSecretKey(slot: string): Promise<Uint8Array | undefined> {
  const entry = await read<SealedKey>(`sk:${slot}`);
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
  const existing = await read<ClinicIdentity>(`id:${slot}`);
  if (existing) return existing;
  const identity = await createClinicIdentity(false);
  await write(`id:${slot}`, identity);
  return identity;
}
