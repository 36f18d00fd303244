// The short code two people read to each other to confirm that the coordinator relayed the right public keys.
const DOMAIN = new TextEncoder().encode('cipherpath-safety-code-v1');

export async function safetyCode(holderPublicKey: Uint8Array, requesterPublicKey: Uint8Array): Promise<string> {
  const input = new Uint8Array(DOMAIN.byteLength + holderPublicKey.byteLength + requesterPublicKey.byteLength);
  input.set(DOMAIN, 0);
  input.set(holderPublicKey, DOMAIN.byteLength);
  input.set(requesterPublicKey, DOMAIN.byteLength + holderPublicKey.byteLength);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
  // 48 bits of the digest as 12 decimal digits (the modulo bias of 2^48 mod 10^12 is below 0.4%).
  let value = 0n;
  for (let i = 0; i < 6; i++) value = (value << 8n) | BigInt(digest[i] ?? 0);
  const digits = (value % 10n ** 12n).toString().padStart(12, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}
