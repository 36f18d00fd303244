// Clinic identity keys pinned on first use (src/custody/pinning.ts), kept in this browser's IndexedDB so a later
// relay that shows another key for a known clinic is flagged. Erasing local data erases the pins with the rest.
import type { DBSchema } from 'idb';
import { database } from '../../common/idb.ts';
import type { PinnedIdentity, PinStore } from '../../custody/pinning.ts';

interface PinSchema extends DBSchema {
  pins: { key: string; value: PinnedIdentity };
}

const pins = database<PinSchema>({
  name: 'cipherpath-identity-pins',
  version: 1,
  what: 'pinned clinic identities',
  upgrade: (db) => void db.createObjectStore('pins', { keyPath: 'clinicId' }),
});

export const identityPins: PinStore & { all(): Promise<PinnedIdentity[]> } = {
  get: (clinicId) => pins.use('read', (db) => db.get('pins', clinicId)),
  put: (pin) => pins.use('write', async (db) => void (await db.put('pins', pin))),
  all: () => pins.use('list', (db) => db.getAll('pins')),
};
