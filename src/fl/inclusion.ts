// Verifiable inclusion (issue 11, finding 8): a coordinator that serves "the aggregate" could instead serve one
// clinic's upload added to itself, or leave a clinic out, and an honest clinic would decrypt a plausible result.
// Each clinic therefore appends MARKER_SLOTS secret marker values after its strategy values. Marker k of clinic i in
// round r is a number in [-1, 1] drawn by HKDF-SHA256 from a secret every key holder shares (derived from the
// federation secret key, which the coordinator never sees), the federation id, r, i and k. After decrypting, a clinic
// checks that
//   - its own id is on the roster of submitters the coordinator lists (when it contributed),
//   - the roster holds at least the quorum it pinned when it enrolled,
//   - the aggregate has the ciphertext count (and, where the HE port sees it, the scale) the round declares,
//   - the decrypted count slot equals |roster|, and every decrypted marker equals the sum of the roster's markers
//     within CKKS error.
// The coordinator cannot compute any marker, so it cannot make a sum of other contributions (or of the same one
// twice, or of an old round's) match the roster it lists.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const MARKER_SLOTS = 8;
/** Largest |observed - expected| accepted per marker: far above CKKS error (~1e-8 here), far below a marker's spread. */
export const MARKER_TOLERANCE = 1e-3;

const encoder = new TextEncoder();
const MARKER_SALT = encoder.encode('cipherpath inclusion markers v1');

/** The shared marker secret: HKDF of the federation secret-key envelope (identical bytes at every key holder). */
export function markerSecret(federationSecretKey: Uint8Array, federationId: string): Uint8Array {
  return hkdf(sha256, federationSecretKey, MARKER_SALT, encoder.encode(`marker secret\0${federationId}`), 32);
}

/** Clinic `clinicId`'s MARKER_SLOTS markers for `round`, each uniform in [-1, 1]. */
export function markers(secret: Uint8Array, federationId: string, round: number, clinicId: string): Float64Array {
  const out = new Float64Array(MARKER_SLOTS);
  for (let k = 0; k < MARKER_SLOTS; k++) {
    const bytes = hkdf(sha256, secret, undefined, encoder.encode(`marker\0${federationId}\0${round}\0${clinicId}\0${k}`), 8);
    // 53 random bits give a double in [0, 1) exactly; mapped to [-1, 1).
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const unit = (view.getUint32(0) * 2 ** 21 + (view.getUint32(4) >>> 11)) / 2 ** 53;
    out[k] = 2 * unit - 1;
  }
  return out;
}

/** values || this clinic's markers: what the clinic encrypts and uploads. */
export function withMarkers(values: Float64Array, marks: Float64Array): Float64Array {
  const out = new Float64Array(values.length + marks.length);
  out.set(values);
  out.set(marks, values.length);
  return out;
}

export interface InclusionEvidence {
  federationId: string;
  round: number;
  /** This clinic's id when it contributed to the round (then it must be on the roster), else null. */
  clinicId: string | null;
  /** Clinic ids the coordinator lists as submitted for the round. */
  roster: readonly string[];
  /** The quorum this clinic pinned when it enrolled (not the one the coordinator states now). */
  pinnedQuorum: number;
  /** Decrypted sum of the whole contribution vector, markers last. */
  sum: Float64Array;
  /** The decrypted count slot: how many contributions the sum holds. */
  contributions: number;
  ciphertexts: { observed: number; expected: number };
  /** log2 of the aggregate's scale and of the round's declared scale, where the HE port can read it. */
  scaleBits?: { observed: number; expected: number };
}

export class InclusionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InclusionError';
  }
}

/** Throws InclusionError naming the first check the aggregate fails; returns the strategy part of the sum. */
export function verifyInclusion(secret: Uint8Array, e: InclusionEvidence): Float64Array {
  const where = `round ${e.round} of federation ${e.federationId}`;
  const refuse = (why: string): never => {
    throw new InclusionError(`the coordinator's aggregate for ${where} fails the inclusion check: ${why}; the result is refused`);
  };
  if (new Set(e.roster).size !== e.roster.length) refuse(`its roster lists a clinic twice (${e.roster.join(', ')})`);
  if (e.clinicId !== null && !e.roster.includes(e.clinicId)) refuse(`this clinic (${e.clinicId}) is not on the roster of submitters (${e.roster.join(', ') || 'none'})`);
  if (e.roster.length < e.pinnedQuorum) refuse(`the roster has ${e.roster.length} clinic(s), fewer than the quorum of ${e.pinnedQuorum} pinned at enrolment`);
  if (e.ciphertexts.observed !== e.ciphertexts.expected) refuse(`it has ${e.ciphertexts.observed} ciphertext(s), the round declares ${e.ciphertexts.expected}`);
  if (e.scaleBits && Math.abs(e.scaleBits.observed - e.scaleBits.expected) > 1e-9) refuse(`its scale is 2^${e.scaleBits.observed}, the round declares 2^${e.scaleBits.expected}`);
  if (e.contributions !== e.roster.length) refuse(`it holds ${e.contributions} contribution(s) but the roster lists ${e.roster.length}`);
  const length = e.sum.length - MARKER_SLOTS;
  if (length < 0) refuse(`it has ${e.sum.length} values, fewer than the ${MARKER_SLOTS} marker slots`);
  const expected = new Float64Array(MARKER_SLOTS);
  for (const clinic of e.roster) markers(secret, e.federationId, e.round, clinic).forEach((m, k) => (expected[k] = (expected[k] as number) + m));
  for (let k = 0; k < MARKER_SLOTS; k++) {
    const observed = e.sum[length + k] as number;
    const want = expected[k] as number;
    if (!(Math.abs(observed - want) <= MARKER_TOLERANCE)) {
      refuse(`marker ${k} is ${observed.toFixed(6)}, the listed clinics' markers add up to ${want.toFixed(6)} (a contribution is missing, doubled or foreign)`);
    }
  }
  return e.sum.slice(0, length);
}
