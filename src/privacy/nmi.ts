import { assertSameSize, type RgbImage } from './image.ts';

/**
 * Normalised mutual information in [0, 1] as the paper reports it: NMI = 2·I(A;B) / (H(A) + H(B)), from a joint
 * histogram of all pixel values (every channel) in `bins` equal-width bins spanning each image's own min..max.
 * Equals 2(1 − 1/Y) with Y = scikit-image's normalized_mutual_information(a, b, bins), whose binning (numpy's
 * histogramdd) this reproduces exactly. When both images are constant both entropies are 0 and the ratio is 0/0;
 * we return 1 there (each image determines the other), the convention of scikit-learn's NMI.
 */
export function nmi(a: RgbImage, b: RgbImage, bins = 100): number {
  assertSameSize(a, b);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`nmi: bins must be a positive integer, got ${bins}`);
  const binA = binIndices(a.data, bins);
  const binB = binIndices(b.data, bins);
  const joint = new Float64Array(bins * bins);
  const marginalA = new Float64Array(bins);
  const marginalB = new Float64Array(bins);
  for (let i = 0; i < binA.length; i++) {
    joint[binA[i]! * bins + binB[i]!]! += 1;
    marginalA[binA[i]!]! += 1;
    marginalB[binB[i]!]! += 1;
  }
  const hA = entropy(marginalA, binA.length);
  const hB = entropy(marginalB, binA.length);
  const hAB = entropy(joint, binA.length);
  if (hA + hB === 0) return 1;
  return (2 * (hA + hB - hAB)) / (hA + hB);
}

/**
 * numpy.histogramdd's bin of each value with `bins` bins over the data's min..max (widened by ±0.5 when constant):
 * edges k·step + min computed as numpy.linspace does, a value goes to the last edge ≤ it, the maximum to the last bin.
 */
function binIndices(data: Uint8Array | Float32Array, bins: number): Uint32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (!Number.isFinite(v)) throw new Error(`nmi: pixel values must be finite, found ${v}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges = new Float64Array(bins + 1);
  for (let k = 0; k < bins; k++) edges[k] = k * step + lo;
  edges[bins] = hi;
  const index = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === hi) {
      index[i] = bins - 1;
      continue;
    }
    // Binary search for the number of edges <= v (numpy's searchsorted side='right'), minus one.
    let low = 0;
    let high = bins + 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (edges[mid]! <= v) low = mid + 1;
      else high = mid;
    }
    index[i] = low - 1;
  }
  return index;
}

/** Shannon entropy (nats) of a histogram of `total` counts. */
function entropy(counts: Float64Array, total: number): number {
  let h = 0;
  for (const count of counts) {
    if (count > 0) {
      const p = count / total;
      h -= p * Math.log(p);
    }
  }
  return h;
}
