// YCbCr JPEG tiles to RGB the way libjpeg (and so OpenSlide) does it. geotiff's JPEG decoder replicates subsampled
// chroma (nearest neighbour); libjpeg's default "fancy" upsampling interpolates it with a triangle filter, which in
// saturated H&E moves blue by ~4 levels on average. So the chroma planes are recovered from geotiff's raw output
// (every 2x2 block carries one sample) and upsampled and converted with libjpeg's integer arithmetic (jdsample.c,
// jdcolor.c).

const SCALE = 16;
const HALF = 1 << (SCALE - 1);
const fix = (x: number): number => Math.round(x * (1 << SCALE));
const CR_R = Int32Array.from({ length: 256 }, (_, i) => (fix(1.402) * (i - 128) + HALF) >> SCALE);
const CB_B = Int32Array.from({ length: 256 }, (_, i) => (fix(1.772) * (i - 128) + HALF) >> SCALE);
const CR_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.71414) * (i - 128));
const CB_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.34414) * (i - 128) + HALF);

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** libjpeg's h2v2 fancy upsampling of a (cw x ch) plane to (width x height). */
function upsampleH2V2(plane: Uint8Array, cw: number, ch: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const colsum = new Int32Array(cw);
  for (let y = 0; y < height; y++) {
    const row = y >> 1;
    const farther = y & 1 ? Math.min(ch - 1, row + 1) : Math.max(0, row - 1);
    for (let i = 0; i < cw; i++) colsum[i] = 3 * (plane[row * cw + i] ?? 0) + (plane[farther * cw + i] ?? 0);
    for (let i = 0; i < cw; i++) {
      const here = colsum[i] ?? 0;
      const left = i > 0 ? (colsum[i - 1] ?? 0) : here;
      const right = i < cw - 1 ? (colsum[i + 1] ?? 0) : here;
      const x = 2 * i;
      if (x < width) out[y * width + x] = (3 * here + left + 8) >> 4;
      if (x + 1 < width) out[y * width + x + 1] = (3 * here + right + 7) >> 4;
    }
  }
  return out;
}

/**
 * RGB from geotiff's raw interleaved YCbCr of one JPEG tile (chroma replicated over `sx` x `sy` blocks), in place
 * of geotiff's floating-point fromYCbCr. Subsampling other than 2x2 or 1x1 is converted without re-upsampling.
 */
export function rgbFromJpegYcbcr(ycc: Uint8Array, width: number, height: number, sx: number, sy: number): Uint8Array {
  const n = width * height;
  let cb: Uint8Array;
  let cr: Uint8Array;
  let stride = 1;
  if (sx === 2 && sy === 2) {
    const cw = Math.ceil(width / 2);
    const ch = Math.ceil(height / 2);
    const planeB = new Uint8Array(cw * ch);
    const planeR = new Uint8Array(cw * ch);
    for (let j = 0; j < ch; j++) {
      for (let i = 0; i < cw; i++) {
        const o = (2 * j * width + 2 * i) * 3;
        planeB[j * cw + i] = ycc[o + 1] ?? 0;
        planeR[j * cw + i] = ycc[o + 2] ?? 0;
      }
    }
    cb = upsampleH2V2(planeB, cw, ch, width, height);
    cr = upsampleH2V2(planeR, cw, ch, width, height);
  } else {
    cb = ycc;
    cr = ycc;
    stride = 3;
  }
  const rgb = new Uint8Array(n * 3);
  const offset = stride === 3 ? 1 : 0;
  for (let p = 0; p < n; p++) {
    const y = ycc[p * 3] ?? 0;
    const b = cb[p * stride + offset] ?? 128;
    const r = cr[p * stride + offset * 2] ?? 128;
    rgb[p * 3] = clamp(y + (CR_R[r] ?? 0));
    rgb[p * 3 + 1] = clamp(y + (((CB_G[b] ?? 0) + (CR_G[r] ?? 0)) >> SCALE));
    rgb[p * 3 + 2] = clamp(y + (CB_B[b] ?? 0));
  }
  return rgb;
}
