// Byte equality that takes the same time whatever the contents (for tokens and MACs as well as plain comparisons):
// the loop never exits early, so the position of the first difference does not leak through timing.

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
