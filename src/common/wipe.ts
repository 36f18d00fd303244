// Zero-fills secret material once it is dropped (noble-hashes' rule: never leave key bytes to the garbage collector).

export function wipe(...buffers: (ArrayBufferView | null | undefined)[]): void {
  for (const b of buffers) if (b) new Uint8Array(b.buffer, b.byteOffset, b.byteLength).fill(0);
}
