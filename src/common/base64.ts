// Standard base64 (RFC 4648 §4, with padding) over bytes, in browsers, workers and Node alike (btoa/atob are global
// in all three). Large inputs are converted in chunks: String.fromCharCode(...bytes) overflows the stack past ~100k.
const CHUNK = 0x8000;

export function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += CHUNK) text += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(text);
}

export function fromBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new Error('not valid base64 text');
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
