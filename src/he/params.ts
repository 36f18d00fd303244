// CKKS parameter presets, one per purpose. Every ciphertext and key envelope carries presetHash(preset), so objects
// made under one preset are rejected by another before SEAL ever sees them. Both presets pass SEAL's own 128-bit
// check (SEALContext with SecLevelType.tc128; N=8192 allows at most 218 bits of coefficient modulus).
import { sha256 } from '../common/sha256.ts';
import type { PresetId } from '../protocol/vocabulary.ts';

export type { PresetId };

export interface CkksPreset {
  id: PresetId;
  polyModulusDegree: number;
  coeffModulusBits: readonly number[];
  /** Default encoding scale, log2. Weighted aggregation picks a smaller per-round scale (see aggregate.ts). */
  scaleBits: number;
  purpose: string;
  rationale: string;
}

export const PRESETS: Readonly<Record<PresetId, CkksPreset>> = {
  'agg-v1': {
    id: 'agg-v1',
    polyModulusDegree: 8192,
    coeffModulusBits: [59],
    scaleBits: 40,
    purpose: 'encrypted aggregation: additions only (token batches, classifier heads with sample counts)',
    rationale:
      'Additions consume no level and need no key switching, so a single prime suffices and no special prime is ' +
      'needed: a seeded symmetric ciphertext is then one polynomial of 8192 coefficients, 64,472 B after zstd ' +
      '(+ envelope header), which keeps a 3x768 head + 3 biases + count (2,308 of 4,096 slots) under 64 KiB per ' +
      'clinic. N=4096 would halve the slots (2,048 < 2,308) for the same bytes. 59 rather than 60 bits because zstd ' +
      'cannot shrink 60-bit residues below the raw 65,730 B. Every bit of q0 is aggregation headroom: fresh noise is ' +
      '~2^10 in scaled units, so at scale 2^40 sums of 1000 clinics carry ~3e-8 absolute error and values up to ' +
      '2^57/2^40 = 131,072 in magnitude decode correctly; weighted aggregation trades scale for headroom per round.',
  },
  'agg-wide-v1': {
    id: 'agg-wide-v1',
    polyModulusDegree: 8192,
    coeffModulusBits: [59, 59, 59],
    scaleBits: 40,
    purpose: 'encrypted aggregation for large federations (hundreds to thousands of clinics): additions only',
    rationale:
      'One 59-bit prime caps the sum of K clinics x maxCount samples x maxAbsValue and the CKKS noise together: ' +
      'at K=1000, 100,000 tiles each, the round scale falls to 2^28 and a clinic-per-tile worst case loses 1e-6 ' +
      'relative precision (measured 1.7e-6). Two 59-bit data primes (plus a 59-bit special prime SEAL reserves, ' +
      'unused since nothing is key-switched) give 118 bits at the fresh level, so the same round encodes at 2^87: ' +
      'exact to double precision. The price is twice the upload (~129 KB per ciphertext); aggregationPresetFor() ' +
      'picks this preset only when agg-v1 would encode below 2^30. 177 of the 218 bits allowed at N=8192.',
  },
  'inf-v1': {
    id: 'inf-v1',
    polyModulusDegree: 8192,
    coeffModulusBits: [60, 40, 40, 60],
    scaleBits: 40,
    purpose: 'encrypted linear inference (C x D head on encrypted tokens), plaintext or ciphertext head, masked output',
    rationale:
      'One 40-bit level for the token x weight product (ct x pt or ct x ct + relinearization), one 40-bit level ' +
      'for the 0/1 output mask that zeroes every slot but the logits, a 60-bit base prime that holds the result ' +
      'at scale 2^40 with 2^19 of headroom, and a 60-bit special prime for key switching (rotations, ' +
      'relinearization). 200 of the 218 bits allowed at N=8192 for 128-bit security. N=16384 is 5-10x slower ' +
      'with no precision gain at this depth (research/node-seal.md §3-4).',
  },
};

/** Canonical text of the parameters that determine SEAL's context (purpose/rationale excluded). */
export function canonicalPresetText(p: CkksPreset): string {
  return JSON.stringify({
    scheme: 'ckks',
    seal: '4.1',
    security: 'tc128',
    polyModulusDegree: p.polyModulusDegree,
    coeffModulusBits: [...p.coeffModulusBits],
    scaleBits: p.scaleBits,
  });
}

/** sha-256 of the canonical parameters (async for its callers; the digest itself is src/common's sync one). */
export async function presetHash(p: CkksPreset): Promise<Uint8Array> {
  return sha256(canonicalPresetText(p));
}
