// Deterministic H&E-like test tiles (pink stroma, purple nuclei, pale lumens, grain) for the attack tests, so they run
// on images with tissue-like structure without shipping patient data or depending on other folders' samples.
import type { RgbImage } from './image.ts';

/** xorshift32 in [0, 1); seed must be non-zero after mixing. */
function xorshift(seed: number): () => number {
  let state = (Math.imul(seed + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

export function syntheticTile(seed: number, size: number): RgbImage {
  const random = xorshift(seed);
  const stroma = [225 + 20 * random(), 150 + 40 * random(), 190 + 25 * random()];
  const rgb = new Float32Array(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const grain = (random() - 0.5) * 16;
    for (let c = 0; c < 3; c++) rgb[3 * p + c] = stroma[c]! + grain;
  }
  const blobs = [
    ...Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ color: [246, 238, 244], radius: size * (0.1 + 0.1 * random()) })),
    ...Array.from({ length: Math.round(size * size * (0.004 + 0.006 * random())) }, () => {
      const shade = 0.75 + 0.4 * random();
      return { color: [80 * shade, 48 * shade, 130 * shade], radius: size * (0.03 + 0.04 * random()) };
    }),
  ];
  for (const { color, radius } of blobs) {
    const cx = random() * size;
    const cy = random() * size;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const cover = Math.min(1, Math.max(0, radius + 0.5 - Math.hypot(x - cx, y - cy))) * 0.9;
        for (let c = 0; c < 3 && cover > 0; c++) rgb[3 * (y * size + x) + c] = rgb[3 * (y * size + x) + c]! * (1 - cover) + color[c]! * cover;
      }
    }
  }
  return { width: size, height: size, channels: 3, data: Uint8Array.from(rgb, (v) => Math.max(0, Math.min(255, Math.round(v)))) };
}
