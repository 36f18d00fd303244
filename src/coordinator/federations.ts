// Creating a federation with its first invites (the admin route, the demo endpoint, the first start), and the
// clinic tokens: issued at enrolment, valid for TOKEN_DAYS, rotated or revoked by the admin; only hashes are stored.
import { sha256Hex } from '../common/sha256.ts';
import type { CreateFederationRequest } from '../protocol/api.ts';
import { newInviteCode, newSecret } from './security.ts';
import type { ClinicToken, FederationRow, Store } from './stores/types.ts';

export function randomId(prefix: string): string {
  return `${prefix}-${newSecret(9).toLowerCase().replace(/[^a-z0-9]/g, '0')}`;
}

export const newInviteCodes = (count: number): string[] => Array.from({ length: count }, () => newInviteCode());

export async function createFederationWithInvites(
  store: Store,
  req: CreateFederationRequest,
  inviteCount: number,
  expiresAt: string | null = null,
): Promise<{ federation: FederationRow; codes: string[] }> {
  const codes = newInviteCodes(inviteCount);
  const federation = await store.createFederation(
    {
      id: randomId('fed'),
      name: req.name,
      presetId: req.presetId,
      strategy: req.strategy ?? 'sum',
      minClinics: req.minClinics,
      roundSeconds: req.roundSeconds ?? 3600,
      ciphertextCount: req.ciphertextCount ?? null,
      scaleBits: req.scaleBits ?? null,
      markerSlots: req.markerSlots ?? 0,
      expiresAt,
    },
    codes,
  );
  return { federation, codes };
}

/** A fresh clinic bearer token (returned once) and what the store keeps of it. */
export function newClinicToken(validDays: number): { token: string; stored: ClinicToken } {
  const token = newSecret(32);
  return { token, stored: { tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + validDays * 86_400_000).toISOString() } };
}

