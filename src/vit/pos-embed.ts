// Resampling a position-embedding grid to another size, as timm's resample_abs_pos_embed and HF
// Dinov2WithRegisters do it: torch.nn.functional.interpolate(mode='bicubic', align_corners=False,
// antialias=True). That path (PyTorch's _upsample_bicubic2d_aa) is separable, uses Keys' cubic with
// a = -0.5, widens the kernel by the scale factor when shrinking and renormalises the taps at the
// borders, so it differs from plain bicubic (a = -0.75, clamped borders) on every grid.

function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Per output index: the first input index and the normalised weights of its taps. */
function taps(inSize: number, outSize: number): { first: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const support = 2 * Math.max(scale, 1);
  const invScale = scale >= 1 ? 1 / scale : 1;
  return Array.from({ length: outSize }, (_, i) => {
    const center = scale * (i + 0.5);
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - first;
    const weights = new Float64Array(count);
    let total = 0;
    for (let j = 0; j < count; j++) {
      weights[j] = cubic((j + first - center + 0.5) * invScale);
      total += weights[j] as number;
    }
    for (let j = 0; j < count; j++) weights[j] = total === 0 ? 0 : (weights[j] as number) / total;
    return { first, weights };
  });
}

/**
 * Resamples a row-major grid of `from` x `from` embeddings of `dim` values ([from * from, dim]) to
 * `to` x `to`. Both passes accumulate in float64; the result is rounded to float32 once.
 */
export function resampleGrid(grid: Float32Array, from: number, to: number, dim: number): Float32Array {
  if (grid.length !== from * from * dim) throw new Error(`position embeddings: ${grid.length} values is not ${from} x ${from} x ${dim}`);
  if (from === to) return grid.slice();
  const along = taps(from, to);
  // Horizontal pass: [from rows, to cols, dim].
  const wide = new Float64Array(from * to * dim);
  for (let y = 0; y < from; y++) {
    for (let x = 0; x < to; x++) {
      const { first, weights } = along[x] as { first: number; weights: Float64Array };
      const out = (y * to + x) * dim;
      for (let j = 0; j < weights.length; j++) {
        const w = weights[j] as number;
        const src = (y * from + first + j) * dim;
        for (let c = 0; c < dim; c++) wide[out + c] = (wide[out + c] as number) + w * (grid[src + c] as number);
      }
    }
  }
  const result = new Float32Array(to * to * dim);
  const column = new Float64Array(dim);
  for (let y = 0; y < to; y++) {
    const { first, weights } = along[y] as { first: number; weights: Float64Array };
    for (let x = 0; x < to; x++) {
      column.fill(0);
      for (let j = 0; j < weights.length; j++) {
        const w = weights[j] as number;
        const src = ((first + j) * to + x) * dim;
        for (let c = 0; c < dim; c++) column[c] = (column[c] as number) + w * (wide[src + c] as number);
      }
      result.set(column, (y * to + x) * dim);
    }
  }
  return result;
}
