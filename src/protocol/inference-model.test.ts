// The inference model's wire format: the layout's bounds come from its one schema, both in the bundle's check and
// for a JSON validator (the route's response schema), and a model round-trips through its bundle.
import { Check } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { decodeInferenceModel, encodeInferenceModel, InferenceLayoutSchema, type InferenceLayoutWire } from './inference-model.ts';

const layout: InferenceLayoutWire = { mode: 'single', classes: 3, dim: 4, slotCount: 4096, tokensPerGroup: 1, classesPerPass: 3, featuresPerCiphertext: 4, ciphertextsPerGroup: 1, passes: 1, masked: false };
const model = (l: unknown) => encodeInferenceModel({ layout: l as InferenceLayoutWire, encrypted: false, weights: new Float64Array(12).fill(0.5), biases: new Float64Array(3) });

describe('inference model wire format', () => {
  it('round-trips a head in clear with its layout', () => {
    const decoded = decodeInferenceModel(model(layout));
    expect(decoded.layout).toEqual(layout);
    expect(decoded.encrypted).toBe(false);
    expect(Check(InferenceLayoutSchema, layout)).toBe(true);
  });

  it('refuses a layout outside the schema, naming the field and its bounds, as a JSON validator would', () => {
    const bad: [Partial<Record<keyof InferenceLayoutWire, unknown>>, string][] = [
      [{ dim: 0 }, 'layout.dim must be an integer in 1..4096'],
      [{ dim: 4097 }, 'layout.dim must be an integer in 1..4096'],
      [{ classes: 2.5 }, 'layout.classes must be an integer in 1..64'],
      [{ passes: 65 }, 'layout.passes must be an integer in 1..64'],
      [{ mode: 'tiled' }, "layout.mode must be 'single' or 'batched'"],
      [{ masked: 'no' }, 'layout.masked must be a boolean'],
    ];
    for (const [change, message] of bad) {
      expect(() => decodeInferenceModel(model({ ...layout, ...change })), message).toThrow(message);
      expect(Check(InferenceLayoutSchema, { ...layout, ...change })).toBe(false);
    }
  });
});
