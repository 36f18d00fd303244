// Issue 11 findings 4, 5, 7 and 10 against the real coordinator: a full disk answers 507, stores nothing, and a later
// retry succeeds and closes the round; a blob quota does the same; random bearer tokens are rate-limited per address
// (and, behind a trusted proxy, per forwarded client); the demo endpoint is limited; clinic tokens expire and are
// rotated and revoked by the admin; garbage Galois keys and off-curve public keys are refused at upload.
import { readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClinicIdentity } from '../custody/identity.ts';
import { PRESETS, presetHash } from '../he/params.ts';
import { encryptTokenBatch, generateSecretKey } from '../he/tokens.ts';
import type { RoundView } from '../protocol/api.ts';
import { encodeBundle } from '../protocol/bundle.ts';
import { encodeEnvelope } from '../protocol/envelope.ts';
import { startEmbeddedCoordinator } from './embedded.ts';
import { readConfig } from './config.ts';
import { adminFederation, enrol, type HttpCall, httpClient, sharedHe, startCoordinator, TEST_ADMIN_TOKEN } from './testing.ts';

const he = sharedHe();

async function oneClinicRound(call: HttpCall) {
  const { federationId, codes } = await adminFederation(call, { minClinics: 1, invites: 1 });
  const clinic = await enrol(call, codes[0] as string, 'Solo');
  const body = encodeBundle(await encryptTokenBatch(he.ctx, await generateSecretKey(he.ctx, federationId), federationId, [Float32Array.from({ length: 8 }, (_, i) => i)]));
  const upload = () => call<{ error: string; message: string }>('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: body });
  const round = () => call<RoundView>('GET', `/api/federations/${federationId}/rounds/1`, { token: clinic.token });
  return { federationId, clinic, body, upload, round };
}

async function closes(round: () => Promise<{ body: RoundView }>): Promise<RoundView> {
  for (let i = 0; i < 100; i++) {
    const r = (await round()).body;
    if (r.status === 'closed') return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('round did not close');
}

describe('honest storage', () => {
  it('answers 507 on a full disk, keeps no row and no blob, and accepts the retry once space is back', async () => {
    let diskFull = false;
    const coordinator = await startEmbeddedCoordinator({
      pool: he.pool,
      adminToken: TEST_ADMIN_TOKEN,
      // The disk fills up halfway through the write: the kernel's answer is ENOSPC after a short write.
      blobWrite: (fd, bytes, offset, length) => {
        if (!diskFull) return writeSync(fd, bytes, offset, length);
        if (offset > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return writeSync(fd, bytes, offset, Math.floor(length / 2));
      },
    });
    try {
      const call = httpClient(coordinator.url);
      const { federationId, clinic, body, upload, round } = await oneClinicRound(call);
      const blobsBefore = readdirSync(join(coordinator.dataDir, 'blobs')).sort();
      diskFull = true;
      const refused = await upload();
      expect(refused.status).toBe(507);
      expect(refused.body.message).toMatch(/disk is full.*nothing was stored/);
      expect((await round()).body.submitted).toEqual([]);
      expect(readdirSync(join(coordinator.dataDir, 'blobs')).sort()).toEqual(blobsBefore);
      diskFull = false;
      const accepted = await call<{ sha256: string }>('POST', `/api/federations/${federationId}/rounds/1/uploads`, { token: clinic.token, binary: body });
      expect(accepted.status).toBe(201);
      expect((await closes(round)).submitted).toEqual(['Solo']);
      // Retention: once the aggregate is stored, the round's uploads are deleted (by the retention job the close
      // wrote, which the closing replica starts at once); the aggregate stays.
      for (let i = 0; i < 50 && readdirSync(join(coordinator.dataDir, 'blobs')).includes(accepted.body.sha256); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readdirSync(join(coordinator.dataDir, 'blobs'))).not.toContain(accepted.body.sha256);
      expect((await call('GET', `/api/federations/${federationId}/rounds/1/aggregate`, { token: clinic.token })).status).toBe(200);
      expect(new TextDecoder().decode((await call('GET', '/metrics')).bytes)).toMatch(/cipherpath_blob_bytes \d+/);
    } finally {
      await coordinator.close();
    }
  });

  it('answers 507 past the blob quota and stores nothing', async () => {
    const coordinator = await startCoordinator({ pool: he.pool, env: { BLOB_QUOTA_BYTES: '1000' } });
    try {
      const call = httpClient(coordinator.url);
      const { upload, round } = await oneClinicRound(call);
      const refused = await upload();
      expect(refused.status).toBe(507);
      expect(refused.body.error).toBe('insufficient-storage');
      expect((await round()).body.submitted).toEqual([]);
    } finally {
      await coordinator.stop();
    }
  });
});

describe('limits on verified identity', () => {
  it('rate-limits random bearer tokens by address, while a verified clinic keeps its own bucket', async () => {
    const coordinator = await startCoordinator({ pool: he.pool, env: { RATE_LIMIT_PER_SECOND: '5' } });
    try {
      const call = httpClient(coordinator.url);
      const { codes } = await adminFederation(call, { minClinics: 1, invites: 1 });
      const clinic = await enrol(call, codes[0] as string, 'Verified');
      const random = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
      const statuses = await Promise.all(Array.from({ length: 40 }, () => call('GET', '/api/me', { token: random() }).then((r) => r.status)));
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(20);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect((await call('GET', '/api/me', { token: clinic.token })).status).toBe(200);
    } finally {
      await coordinator.stop();
    }
  });

  it('behind a trusted proxy, keys anonymous callers on the forwarded address', async () => {
    const coordinator = await startCoordinator({ pool: he.pool, env: { RATE_LIMIT_PER_SECOND: '5', TRUST_PROXY: '127.0.0.1' } });
    try {
      const flood = (address: string) => fetch(`${coordinator.url}/api/me`, { headers: { 'x-forwarded-for': address } }).then((r) => r.status);
      const first = await Promise.all(Array.from({ length: 30 }, () => flood('203.0.113.7')));
      expect(first).toContain(429);
      expect(await flood('198.51.100.9')).toBe(401);
    } finally {
      await coordinator.stop();
    }
  });

  it('limits the demo endpoint per address and caps live demo federations', async () => {
    const perAddress = await startCoordinator({ pool: he.pool, env: { DEMO_PER_ADDRESS_PER_HOUR: '2' } });
    try {
      const call = httpClient(perAddress.url);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await call('POST', '/api/demo/federations')).status);
      expect(statuses).toEqual([201, 201, 429]);
    } finally {
      await perAddress.stop();
    }
    const capped = await startCoordinator({ pool: he.pool, env: { DEMO_MAX_LIVE: '1' } });
    try {
      const call = httpClient(capped.url);
      expect((await call('POST', '/api/demo/federations')).status).toBe(201);
      const refused = await call<{ error: string }>('POST', '/api/demo/federations');
      expect(refused.status).toBe(429);
      expect(refused.body.error).toBe('demo-capacity');
    } finally {
      await capped.stop();
    }
  });
});

describe('clinic tokens and keys', () => {
  it('expires clinic tokens, and lets the admin rotate and revoke them', async () => {
    const coordinator = await startCoordinator({ pool: he.pool, env: { TOKEN_DAYS: String(2 / 86_400) } });
    try {
      const call = httpClient(coordinator.url);
      const { codes } = await adminFederation(call, { minClinics: 1, invites: 2 });
      const a = await enrol(call, codes[0] as string, 'A');
      const b = await enrol(call, codes[1] as string, 'B');
      expect((await call('GET', '/api/me', { token: a.token })).status).toBe(200);
      const rotated = await call<{ token: string }>('POST', `/api/admin/clinics/${a.clinicId}/token`, { token: TEST_ADMIN_TOKEN });
      expect(rotated.status).toBe(200);
      expect((await call('GET', '/api/me', { token: a.token })).status).toBe(401);
      expect((await call('GET', '/api/me', { token: rotated.body.token })).status).toBe(200);
      expect((await call('DELETE', `/api/admin/clinics/${b.clinicId}`, { token: TEST_ADMIN_TOKEN })).status).toBe(200);
      expect((await call('GET', '/api/me', { token: b.token })).status).toBe(401);
      expect((await call('POST', `/api/admin/clinics/${b.clinicId}/token`, { token: TEST_ADMIN_TOKEN })).status).toBe(404);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await call('GET', '/api/me', { token: rotated.body.token })).status).toBe(401);
    } finally {
      await coordinator.stop();
    }
  });

  it('refuses garbage Galois keys at upload and public keys that are not P-256 points', async () => {
    const coordinator = await startCoordinator({ pool: he.pool });
    try {
      const call = httpClient(coordinator.url);
      const { federationId, codes } = await adminFederation(call, { minClinics: 1, invites: 1 });
      const holder = await enrol(call, codes[0] as string, 'Holder');
      const offCurve = new Uint8Array(65).fill(1);
      offCurve[0] = 4;
      const refusedKey = await call<{ message: string }>('PUT', '/api/me/public-key', { token: holder.token, binary: offCurve });
      expect(refusedKey.status).toBe(400);
      expect(refusedKey.body.message).toMatch(/not a point on P-256/);
      expect((await call('PUT', '/api/me/public-key', { token: holder.token, binary: (await createClinicIdentity()).publicKeyRaw })).status).toBe(200);
      expect((await call('POST', `/api/federations/${federationId}/founder`, { token: holder.token })).status).toBe(200);
      const garbage = encodeEnvelope({ kind: 'galois-keys', federationId, presetHash: await presetHash(PRESETS['inf-v1']), payload: crypto.getRandomValues(new Uint8Array(4096)) });
      const refused = await call<{ error: string }>('PUT', `/api/federations/${federationId}/evaluation-keys/galois-keys`, { token: holder.token, binary: garbage });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid-evaluation-key');
    } finally {
      await coordinator.stop();
    }
  });

  it('refuses an ADMIN_TOKEN no bearer header could carry, with a clear message', () => {
    expect(() => readConfig([], { ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN must be 16 to 128 characters/);
    expect(() => readConfig([], { ADMIN_TOKEN: 'abc+def/ghi=jkl0123456789' })).toThrow(/base64url/);
    expect(readConfig([], { ADMIN_TOKEN: TEST_ADMIN_TOKEN }).adminToken).toBe(TEST_ADMIN_TOKEN);
  });
});
