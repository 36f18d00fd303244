// Trust on first use for clinic identity keys: the first identity key a clinic is seen with is remembered, and
// replaced only by one that a confirmed relay authenticated; a relay that shows another key for a pinned clinic is
// flagged before anyone compares codes. Storage is the caller's (IndexedDB in the browser, a Map in tests).
import { sha256 } from '../common/sha256.ts';
import { toHex } from '../common/hex.ts';
import { bytesEqual } from '../common/bytes-equal.ts';

export interface PinnedIdentity {
  clinicId: string;
  clinicName: string;
  identityKey: Uint8Array;
  pinnedAt: string;
}

export interface PinStore {
  get(clinicId: string): Promise<PinnedIdentity | undefined>;
  put(pin: PinnedIdentity): Promise<void>;
}

export type PinCheck = { status: 'first-use' } | { status: 'pinned' } | { status: 'changed'; pinned: PinnedIdentity };

/** 160 bits of SHA-256 of the raw key, as ten groups of four hex digits: what Settings shows and people read. */
export function identityFingerprint(identityKey: Uint8Array): string {
  return (toHex(sha256(identityKey).subarray(0, 20)).match(/.{4}/g) as string[]).join(' ');
}

export async function checkPin(store: PinStore, clinicId: string, identityKey: Uint8Array): Promise<PinCheck> {
  const pinned = await store.get(clinicId);
  if (!pinned) return { status: 'first-use' };
  return bytesEqual(pinned.identityKey, identityKey) ? { status: 'pinned' } : { status: 'changed', pinned };
}

/** On first sight, and once the people confirmed a relay's code: the key they authenticated becomes the pinned one. */
export async function pinIdentity(store: PinStore, clinicId: string, clinicName: string, identityKey: Uint8Array): Promise<void> {
  await store.put({ clinicId, clinicName, identityKey: identityKey.slice(), pinnedAt: new Date().toISOString() });
}
