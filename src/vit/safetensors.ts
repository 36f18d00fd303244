// Reader/writer for the safetensors format (8-byte little-endian header length, JSON header,
// raw little-endian tensor bytes). Tensors are decoded to Float32Array because tfjs has no
// float16 tensors; F16 and BF16 exist only as storage formats.

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface DecodedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array;
}

export interface NamedTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

function isDtype(value: unknown): value is SafetensorsDtype {
  return value === 'F32' || value === 'F16' || value === 'BF16';
}

let halfTable: Float32Array | undefined;

/** All 65,536 float16 bit patterns as float32, built once: decoding is then one lookup per value. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) halfTable[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) halfTable[h] = mantissa ? NaN : sign * Infinity;
    else halfTable[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return halfTable;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 -> float16 bits, round to nearest even (as numpy / torch `.half()`). */
export function floatToHalfBits(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 31) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++; // may carry into the exponent: correct
  return sign | half;
}

/** float32 -> bfloat16 bits, round to nearest even. */
function floatToBfloat16Bits(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0] as number;
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40; // NaN stays NaN
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function decode(dtype: SafetensorsDtype, bytes: Uint8Array, count: number, owned = false): Float32Array {
  // Copy to a fresh, aligned buffer: tensor offsets inside the file need not be 4-byte aligned (a buffer of the
  // tensor's own, as a stream reader fills, is used as it is).
  const aligned = owned && bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === 'F32') return new Float32Array(aligned.buffer, 0, count);
  const halves = new Uint16Array(aligned.buffer, 0, count);
  const out = new Float32Array(count);
  if (dtype === 'F16') {
    const table = halfToFloatTable();
    for (let i = 0; i < count; i++) out[i] = table[halves[i] as number] as number;
  } else {
    const outBits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) outBits[i] = (halves[i] as number) << 16;
  }
  return out;
}

export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range inside the file (header included). */
  begin: number;
  end: number;
}

/** Reads a safetensors header and checks every entry against the file, without decoding any tensor. */
export function indexSafetensors(file: Uint8Array): { entries: Map<string, TensorEntry>; metadata: Record<string, string> } {
  const headerLength = safetensorsHeaderLength(file, file.byteLength);
  return parseSafetensorsHeader(file.subarray(8, 8 + headerLength), file.byteLength);
}

/** The header's length from the file's first 8 bytes (`prefix`), checked against the whole file's size. */
export function safetensorsHeaderLength(prefix: Uint8Array, fileBytes: number): number {
  if (prefix.byteLength < 8 || fileBytes < 8) throw new Error(`safetensors: file is ${fileBytes} bytes, shorter than the 8-byte header length`);
  const headerLength = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > fileBytes) throw new Error(`safetensors: header length ${headerLength} runs past the end of the ${fileBytes}-byte file`);
  return headerLength;
}

/**
 * The entries of a safetensors header (its JSON bytes), each checked against a file of `fileBytes` bytes: a caller
 * that reads only the header (a multi-GB checkpoint) learns every tensor's shape without reading the data.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileBytes: number): { entries: Map<string, TensorEntry>; metadata: Record<string, string> } {
  const headerLength = headerBytes.byteLength;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(headerBytes));
  } catch (error) {
    throw new Error(`safetensors: header is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error('safetensors: header is not a JSON object');
  }
  const dataStart = 8 + headerLength;
  const dataLength = fileBytes - dataStart;
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
    if (!isDtype(dtype)) {
      throw new Error(`safetensors: tensor "${name}" has dtype ${JSON.stringify(dtype)}; supported: F32, F16, BF16`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`safetensors: tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new Error(`safetensors: tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength) {
      throw new Error(`safetensors: tensor "${name}" data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section`);
    }
    if (end - begin !== count * BYTES_PER_ELEMENT[dtype]) {
      throw new Error(
        `safetensors: tensor "${name}" holds ${end - begin} bytes but shape [${shape.join(', ')}] in ${dtype} needs ${count * BYTES_PER_ELEMENT[dtype]}`,
      );
    }
    entries.set(name, { dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }
  return { entries, metadata };
}

/** One tensor of an indexed file, as float32 (a fresh buffer: nothing refers into the file). */
export function decodeTensor(file: Uint8Array, entry: TensorEntry): Float32Array {
  return decode(entry.dtype, file.subarray(entry.begin, entry.end), entry.shape.reduce((a, b) => a * b, 1));
}

/** One tensor from a buffer holding exactly its bytes, which the caller hands over (F32 data is used in place). */
export function decodeOwnedTensor(bytes: Uint8Array, entry: TensorEntry): Float32Array {
  return decode(entry.dtype, bytes, entry.shape.reduce((a, b) => a * b, 1), true);
}

/** Parses a whole safetensors file into float32 tensors. Errors name the tensor or header field at fault. */
export function readSafetensors(file: Uint8Array): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  const { entries, metadata } = indexSafetensors(file);
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, entry] of entries) tensors.set(name, { dtype: entry.dtype, shape: entry.shape, data: decodeTensor(file, entry) });
  return { tensors, metadata };
}

/** Serialises tensors (in the given order) into one safetensors file, all stored as `dtype`. */
export function writeSafetensors(
  tensors: readonly NamedTensor[],
  dtype: SafetensorsDtype,
  metadata: Record<string, string> = {},
): Uint8Array {
  const elementBytes = BYTES_PER_ELEMENT[dtype];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) {
      throw new Error(`safetensors: tensor "${tensor.name}" has ${tensor.data.length} values but shape [${tensor.shape.join(', ')}]`);
    }
    header[tensor.name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + count * elementBytes] };
    offset += count * elementBytes;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8; // the format pads the header with spaces to 8 bytes
  if (padded !== headerBytes.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(headerBytes);
    headerBytes = spaced;
  }
  const file = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors) {
    if (dtype === 'F32') {
      file.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    } else {
      const out = new DataView(file.buffer, position, tensor.data.length * 2);
      const toBits = dtype === 'F16' ? floatToHalfBits : floatToBfloat16Bits;
      for (let i = 0; i < tensor.data.length; i++) out.setUint16(i * 2, toBits(tensor.data[i] as number), true);
    }
    position += tensor.data.length * elementBytes;
  }
  return file;
}
