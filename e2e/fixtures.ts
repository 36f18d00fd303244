// Shared e2e helpers: the sample tiles as the secrets no request may carry, and admin calls to the real coordinator.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIRequestContext } from '@playwright/test';
import { PNG } from 'pngjs';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import type { Secret } from './leak-scan.ts';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples');

export function sampleTileSecrets(): Secret[] {
  const secrets: Secret[] = [];
  for (const cls of readdirSync(SAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(SAMPLES, cls.name))) {
      const bytes = new Uint8Array(readFileSync(join(SAMPLES, cls.name, file)));
      secrets.push({ name: `${cls.name}/${file} (file)`, bytes });
      secrets.push({ name: `${cls.name}/${file} (RGBA pixels)`, bytes: new Uint8Array(PNG.sync.read(Buffer.from(bytes)).data) });
    }
  }
  return secrets;
}

export async function createFederation(request: APIRequestContext, minClinics: number): Promise<{ federationId: string; codes: string[] }> {
  const headers = { authorization: `Bearer ${E2E_ADMIN_TOKEN}` };
  const created = await request.post('/api/admin/federations', { headers, data: { name: `e2e ${Date.now()}`, presetId: 'agg-v1', minClinics } });
  if (!created.ok()) throw new Error(`create federation: ${created.status()} ${await created.text()}`);
  const federation = (await created.json()) as { id: string };
  const invites = await request.post(`/api/admin/federations/${federation.id}/invites`, { headers, data: { count: minClinics } });
  if (!invites.ok()) throw new Error(`invites: ${invites.status()} ${await invites.text()}`);
  return { federationId: federation.id, codes: ((await invites.json()) as { codes: string[] }).codes };
}
