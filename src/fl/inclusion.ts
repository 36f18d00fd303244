// Verifiable inclusion (issue 11, finding 8): a coordinator that serves "the aggregate" could instead serve one
// clinic's upload added to itself, or leave a clinic out, and an honest clinic would decrypt a plausible result.
// Each clinic therefore appends MARKER_SLOTS secret marker values after its strategy values. The markers are drawn
// from the federation secret key, which the coordinator never sees (src/he/inclusion-markers.ts, computed where the
// key lives: the HE worker in the browser). After decrypting, a clinic checks that
//   - its own id is on the roster of submitters the coordinator lists (when it contributed),
//   - the roster holds at least the quorum it pinned when it enrolled,
//   - the aggregate has the ciphertext count (and, where the HE port sees it, the scale) the round declares,
//   - the decrypted count slot equals |roster|, and every decrypted marker equals the sum of the roster's markers
//     within CKKS error.
// The coordinator cannot compute any marker, so it cannot make a sum of other contributions (or of the same one
// twice, or of an old round's) match the roster it lists.
import { MARKER_SLOTS } from '../he/inclusion-markers.ts';

/** Largest |observed - expected| accepted per marker: far above CKKS error (~1e-8 here), far below a marker's spread. */
export const MARKER_TOLERANCE = 1e-3;

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
  /** The markers of each roster clinic for this round, in roster order (from the key holder's HE port). */
  rosterMarkers: readonly Float64Array[];
}

export class InclusionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InclusionError';
  }
}

/** Throws InclusionError naming the first check the aggregate fails; returns the strategy part of the sum. */
export function verifyInclusion(e: InclusionEvidence): Float64Array {
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
  if (e.rosterMarkers.length !== e.roster.length) throw new Error(`markers of ${e.rosterMarkers.length} clinic(s) for a roster of ${e.roster.length}`);
  for (const marks of e.rosterMarkers) marks.forEach((m, k) => (expected[k] = (expected[k] as number) + m));
  for (let k = 0; k < MARKER_SLOTS; k++) {
    const observed = e.sum[length + k] as number;
    const want = expected[k] as number;
    if (!(Math.abs(observed - want) <= MARKER_TOLERANCE)) {
      refuse(`marker ${k} is ${observed.toFixed(6)}, the listed clinics' markers add up to ${want.toFixed(6)} (a contribution is missing, doubled or foreign)`);
    }
  }
  return e.sum.slice(0, length);
}
