// Secrets the coordinator issues (bearer tokens, invite codes) and how it checks them: only hashes are stored.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../common/sha256.ts';

export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const INVITE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Invite codes are read aloud and typed: 12 unambiguous characters in three groups (about 60 bits). */
export function newInviteCode(): string {
  const bytes = randomBytes(12);
  const chars = Array.from(bytes, (b) => INVITE_ALPHABET[b % INVITE_ALPHABET.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8).join('')}`;
}

export function tokenMatchesHash(token: string, expectedHash: string): boolean {
  const a = Buffer.from(sha256Hex(token), 'hex');
  const b = Buffer.from(expectedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What a bearer token may look like: base64url, 16 to 128 characters (the admin token too). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer (\S+)$/.exec(header ?? '');
  if (!match?.[1] || !TOKEN_PATTERN.test(match[1])) return undefined;
  return match[1];
}
