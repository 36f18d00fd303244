// Creating a federation with its first invites: shared by the admin route, the demo endpoint and the first start.
import type { CreateFederationRequest } from '../protocol/api.ts';
import { newInviteCode, newSecret } from './security.ts';
import type { FederationRow, Store } from './store.ts';

export function randomId(prefix: string): string {
  return `${prefix}-${newSecret(9).toLowerCase().replace(/[^a-z0-9]/g, '0')}`;
}

export function issueInvites(store: Store, federationId: string, count: number): string[] {
  const codes = Array.from({ length: count }, () => newInviteCode());
  for (const code of codes) store.addInvite(federationId, code);
  return codes;
}

export function createFederationWithInvites(store: Store, req: CreateFederationRequest, inviteCount: number): { federation: FederationRow; codes: string[] } {
  const federation = store.createFederation({
    id: randomId('fed'),
    name: req.name,
    presetId: req.presetId,
    strategy: req.strategy ?? 'sum',
    minClinics: req.minClinics,
    roundSeconds: req.roundSeconds ?? 3600,
  });
  const codes = issueInvites(store, federation.id, inviteCount);
  store.audit('admin', 'federation.created', { federationId: federation.id, name: req.name, invites: inviteCount });
  return { federation, codes };
}
