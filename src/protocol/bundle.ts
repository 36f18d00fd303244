// A bundle frames several binary blobs (ciphertext envelopes) into one HTTP body:
// magic 'CPBN', u32 count, then count × (u32 length, bytes). All integers little-endian.
// Shared by the browser (upload/download) and the coordinator (validation), so both sides cap sizes identically.

const MAGIC = 0x4e425043; // 'CPBN' read as little-endian u32
const HEADER = 8;

export const BUNDLE_LIMITS = {
  maxParts: 4096,
  maxPartBytes: 16 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
} as const;

export class BundleError extends Error {
  readonly code: 'truncated' | 'bad-magic' | 'too-many-parts' | 'part-too-large' | 'too-large' | 'trailing-bytes' | 'empty';
  constructor(code: BundleError['code'], message: string) {
    super(message);
    this.name = 'BundleError';
    this.code = code;
  }
}

export function encodeBundle(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) throw new BundleError('empty', 'a bundle needs at least one part');
  if (parts.length > BUNDLE_LIMITS.maxParts) {
    throw new BundleError('too-many-parts', `bundle has ${parts.length} parts; at most ${BUNDLE_LIMITS.maxParts}`);
  }
  const total = HEADER + parts.reduce((n, p) => n + 4 + p.byteLength, 0);
  if (total > BUNDLE_LIMITS.maxTotalBytes) {
    throw new BundleError('too-large', `bundle is ${total} bytes; at most ${BUNDLE_LIMITS.maxTotalBytes}`);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, parts.length, true);
  let at = HEADER;
  for (const part of parts) {
    view.setUint32(at, part.byteLength, true);
    out.set(part, at + 4);
    at += 4 + part.byteLength;
  }
  return out;
}

export function decodeBundle(bytes: Uint8Array): Uint8Array[] {
  if (bytes.byteLength > BUNDLE_LIMITS.maxTotalBytes) {
    throw new BundleError('too-large', `bundle is ${bytes.byteLength} bytes; at most ${BUNDLE_LIMITS.maxTotalBytes}`);
  }
  if (bytes.byteLength < HEADER) throw new BundleError('truncated', `bundle is ${bytes.byteLength} bytes; header needs ${HEADER}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new BundleError('bad-magic', 'not a cipherpath bundle (magic is not CPBN)');
  const count = view.getUint32(4, true);
  if (count === 0) throw new BundleError('empty', 'bundle declares 0 parts');
  if (count > BUNDLE_LIMITS.maxParts) {
    throw new BundleError('too-many-parts', `bundle declares ${count} parts; at most ${BUNDLE_LIMITS.maxParts}`);
  }
  const parts: Uint8Array[] = [];
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) throw new BundleError('truncated', `bundle ends before the length of part ${i}`);
    const length = view.getUint32(at, true);
    if (length > BUNDLE_LIMITS.maxPartBytes) {
      throw new BundleError('part-too-large', `part ${i} is ${length} bytes; at most ${BUNDLE_LIMITS.maxPartBytes}`);
    }
    if (at + 4 + length > bytes.byteLength) {
      throw new BundleError('truncated', `part ${i} declares ${length} bytes but only ${bytes.byteLength - at - 4} remain`);
    }
    parts.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (at !== bytes.byteLength) throw new BundleError('trailing-bytes', `${bytes.byteLength - at} bytes follow the last part`);
  return parts;
}
