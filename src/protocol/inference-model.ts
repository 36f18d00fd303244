// Wire format of an inference model a key holder publishes to the coordinator, and of inference requests.
// A model is a bundle: part 0 is UTF-8 JSON {layout, encrypted}; then either the head in clear (part 1: C×D float64
// weights, row-major; part 2: C float64 biases) or the head encrypted by a key holder (passes × ciphertextsPerGroup
// weight envelopes, pass-major, then one bias envelope per pass). The layout mirrors src/he's InferenceLayout.
import { type Static, Type } from 'typebox';
import { decodeBundle, encodeBundle } from './bundle.ts';

export const INFERENCE_LIMITS = { maxClasses: 64, maxDim: 4096, maxGroups: 64 } as const;


const count = (maximum: number, description: string) => Type.Integer({ minimum: 1, maximum, description });

/** Slot layout of an inference model (see src/he/inference.ts for the slot formula), written once: the bundle's JSON part and the GET route's answer. */
export const InferenceLayoutSchema = Type.Object({
  mode: Type.Enum(['single', 'batched']),
  classes: count(INFERENCE_LIMITS.maxClasses, 'C: classes'),
  dim: count(INFERENCE_LIMITS.maxDim, 'D: token width'),
  slotCount: count(1 << 16, 'CKKS slots per ciphertext'),
  tokensPerGroup: count(1 << 16, 'B: tokens per group'),
  classesPerPass: count(INFERENCE_LIMITS.maxClasses, 'Cg: class lanes per ciphertext'),
  featuresPerCiphertext: count(1 << 16, 'G: features per ciphertext'),
  ciphertextsPerGroup: count(INFERENCE_LIMITS.maxDim, 'ceil(D / G): input ciphertexts per group of B tokens'),
  passes: count(INFERENCE_LIMITS.maxClasses, 'ceil(C / Cg): result ciphertexts per group'),
  masked: Type.Boolean({
    description:
      "false ('replicated'): every slot holds a complete logit (rotations on the last level, ~3x cheaper); true: non-logit slots are multiplied by 0 (one more level). Neither output contains partial sums of the weights.",
  }),
});
export type InferenceLayoutWire = Static<typeof InferenceLayoutSchema>;

/** GET /api/federations/:fid/inference-model: the published model's layout, never its weights. */
export const PublishedModelSchema = Type.Object({ sha256: Type.String(), layout: InferenceLayoutSchema, encrypted: Type.Boolean() });
export type PublishedModel = Static<typeof PublishedModelSchema>;

export type InferenceModelWire =
  | { layout: InferenceLayoutWire; encrypted: false; weights: Float64Array; biases: Float64Array }
  | { layout: InferenceLayoutWire; encrypted: true; weights: Uint8Array[][]; biases: Uint8Array[] };


export class InferenceModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InferenceModelError';
  }
}

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

export function checkLayoutWire(raw: unknown): InferenceLayoutWire {
  const l = raw as Partial<InferenceLayoutWire> | null;
  if (typeof l !== 'object' || l === null) throw new InferenceModelError('layout must be an object');
  if (l.mode !== 'single' && l.mode !== 'batched') throw new InferenceModelError(`layout.mode must be 'single' or 'batched'`);
  // The bounds are the schema's: one source for the bundle's check and the route's documentation.
  for (const [key, field] of Object.entries(InferenceLayoutSchema.properties) as [keyof InferenceLayoutWire, { minimum?: unknown; maximum?: unknown }][]) {
    const { minimum, maximum } = field;
    if (typeof minimum !== 'number' || typeof maximum !== 'number') continue;
    if (!isInt(l[key], minimum, maximum)) throw new InferenceModelError(`layout.${key} must be an integer in ${minimum}..${maximum}`);
  }
  if (typeof l.masked !== 'boolean') throw new InferenceModelError('layout.masked must be a boolean');
  return l as InferenceLayoutWire;
}

const f64 = (a: Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function toF64(part: Uint8Array, count: number, what: string): Float64Array {
  if (part.byteLength !== count * 8) throw new InferenceModelError(`${what} must be ${count} float64 values (${count * 8} bytes), got ${part.byteLength} bytes`);
  const copy = new Float64Array(count);
  new Uint8Array(copy.buffer).set(part);
  if (!copy.every(Number.isFinite)) throw new InferenceModelError(`${what} contains a non-finite value`);
  return copy;
}

export function encodeInferenceModel(model: InferenceModelWire): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify({ layout: model.layout, encrypted: model.encrypted }));
  if (!model.encrypted) return encodeBundle([meta, f64(model.weights), f64(model.biases)]);
  return encodeBundle([meta, ...model.weights.flat(), ...model.biases]);
}

export function decodeInferenceModel(bytes: Uint8Array): InferenceModelWire {
  const [metaBytes, ...rest] = decodeBundle(bytes);
  let meta: { layout?: unknown; encrypted?: unknown };
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(metaBytes)) as typeof meta;
  } catch {
    throw new InferenceModelError('part 0 must be UTF-8 JSON {layout, encrypted}');
  }
  const layout = checkLayoutWire(meta.layout);
  if (meta.encrypted === false) {
    if (rest.length !== 2) throw new InferenceModelError(`a clear head has 2 parts after the metadata, got ${rest.length}`);
    return { layout, encrypted: false, weights: toF64(rest[0] as Uint8Array, layout.classes * layout.dim, 'weights'), biases: toF64(rest[1] as Uint8Array, layout.classes, 'biases') };
  }
  if (meta.encrypted !== true) throw new InferenceModelError('metadata.encrypted must be a boolean');
  const weightCount = layout.passes * layout.ciphertextsPerGroup;
  if (rest.length !== weightCount + layout.passes) {
    throw new InferenceModelError(`an encrypted head in this layout has ${weightCount} weight and ${layout.passes} bias ciphertexts, got ${rest.length} parts`);
  }
  const weights = Array.from({ length: layout.passes }, (_, p) => rest.slice(p * layout.ciphertextsPerGroup, (p + 1) * layout.ciphertextsPerGroup));
  return { layout, encrypted: true, weights, biases: rest.slice(weightCount) };
}
