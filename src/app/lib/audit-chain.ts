// Checks the coordinator's audit log in the browser: every entry's hash is SHA-256 of
// auditHashInput (src/protocol/api.ts), the same text src/coordinator/store.ts hashes, and every entry names the
// hash of the one before it. An edited, inserted or deleted entry breaks the chain at that entry. The coordinator
// returns the newest 200 entries, so the oldest one shown is trusted as the anchor unless it is the first entry ever.
import { sha256Hex } from '../../common/sha256.ts';
import { AUDIT_GENESIS_HASH, type AuditEntry, auditHashInput } from '../../protocol/api.ts';

export type ChainCheck =
  | { ok: true; entries: number; firstId: number | null; fromGenesis: boolean }
  | { ok: false; entries: number; brokenId: number; reason: string };

/** Verifies the entries (any order) oldest first; reports the first entry that breaks the chain. */
export function verifyAuditChain(entries: readonly AuditEntry[]): ChainCheck {
  const ordered = [...entries].sort((a, b) => a.id - b.id);
  const first = ordered[0];
  let previous: AuditEntry | null = null;
  for (const entry of ordered) {
    const broken = (reason: string): ChainCheck => ({ ok: false, entries: ordered.length, brokenId: entry.id, reason });
    if (previous === null && entry.id === 1 && entry.prevHash !== AUDIT_GENESIS_HASH) return broken('the first entry does not start from the genesis hash');
    if (previous !== null && entry.prevHash !== previous.hash) return broken(`it does not name the hash of entry #${previous.id} before it (an entry was changed, removed or inserted)`);
    if (sha256Hex(auditHashInput(entry)) !== entry.hash) return broken('its hash does not match its content (the entry was changed)');
    previous = entry;
  }
  return { ok: true, entries: ordered.length, firstId: first?.id ?? null, fromGenesis: first === undefined || first.id === 1 };
}
