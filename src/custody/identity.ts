// A clinic's long-term ECDH identity used only for key relay. The browser creates the private key non-extractable;
// tests and the Node simulator may ask for an extractable one to persist it.
export interface ClinicIdentity {
  privateKey: CryptoKey;
  publicKeyRaw: Uint8Array;
}

export const ECDH_PARAMS = { name: 'ECDH', namedCurve: 'P-256' } as const;
export const PUBLIC_KEY_BYTES = 65;

export async function createClinicIdentity(extractable = false): Promise<ClinicIdentity> {
  const pair = await crypto.subtle.generateKey(ECDH_PARAMS, extractable, ['deriveBits']);
  const publicKeyRaw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKeyRaw };
}

export async function importPublicKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.byteLength !== PUBLIC_KEY_BYTES || raw[0] !== 0x04) {
    throw new Error(`a clinic public key is an uncompressed P-256 point of ${PUBLIC_KEY_BYTES} bytes starting with 0x04`);
  }
  try {
    return await crypto.subtle.importKey('raw', raw as BufferSource, ECDH_PARAMS, true, []);
  } catch {
    throw new Error('the clinic public key is not a valid P-256 point');
  }
}
