// The short authentication string two people compare before a federation key is released: 8 decimal digits
// (26.6 bits) of SHA-256 over the relay transcript. Because the requester committed to its key and nonce before the
// holder chose its own, a coordinator in the middle fixes its keys before it can know either code, so one try
// succeeds with probability 10^-8 and a failed try aborts the relay (see README.md).
import { sha256 } from '../common/sha256.ts';
import { encodeFields } from './relay-transcript.ts';

export const SAS_DIGITS = 8;
const MODULUS = 10n ** BigInt(SAS_DIGITS);

/** "1234 5678". 64 digest bits mod 10^8: the modulo bias is below 10^-11. */
export function shortAuthenticationString(transcriptHash: Uint8Array): string {
  const digest = sha256(encodeFields('cipherpath-relay-sas-v2', [transcriptHash]));
  let value = 0n;
  for (let i = 0; i < 8; i++) value = (value << 8n) | BigInt(digest[i] as number);
  const digits = (value % MODULUS).toString().padStart(SAS_DIGITS, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4)}`;
}

/** Whether what a person typed is this code (spaces and dashes ignored; anything else must be digits). */
export function sasMatches(typed: string, code: string): boolean {
  const cleaned = typed.replace(/[\s-]/g, '');
  return /^\d+$/.test(cleaned) && cleaned === code.replace(/\s/g, '');
}
