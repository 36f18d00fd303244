// The one synthetic H&E tile generator: eosin-pink stroma, haematoxylin-purple nuclei, pale lumens and grain, drawn
// from a fixed seed so the repo ships no patient data and every machine sees the same pixels. It writes the bundled
// sample tiles (scripts/make-sample-tiles.ts → public/samples), the audit's attacker tiles (audit-tiles.ts) and the
// attack tests' tiles. At the bundled size (64 px) its output is fixed: public/samples must regenerate bit for bit.
import { mulberry32 } from '../common/mulberry32.ts';
import { CLASS_LABELS, type ClassLabel } from '../protocol/vocabulary.ts';
import { rgbFromRgba, type RgbImage } from './image.ts';

/** Edge of the bundled sample tiles; the class looks below are defined at this size and scaled for others. */
export const SAMPLE_TILE_SIZE = 64;

type Rgb = [number, number, number];

interface ClassLook {
  stroma: Rgb;
  nucleus: Rgb;
  nuclei: number;
  radius: [number, number];
  lumens: number;
}

// The classes differ the way a pathologist would describe them: benign = sparse small nuclei and open air spaces,
// adenocarcinoma = glands (nuclei ringing lumens), squamous cell carcinoma = dense sheets of large irregular nuclei in
// redder cytoplasm.
const LOOKS: Record<ClassLabel, ClassLook> = {
  lung_n: { stroma: [236, 196, 214], nucleus: [92, 62, 140], nuclei: 14, radius: [1.5, 2.5], lumens: 4 },
  lung_aca: { stroma: [222, 160, 196], nucleus: [78, 44, 128], nuclei: 34, radius: [2, 3.2], lumens: 2 },
  lung_scc: { stroma: [214, 120, 150], nucleus: [58, 28, 96], nuclei: 60, radius: [2.6, 4.2], lumens: 0 },
};

/** RGBA pixels (size × size × 4) of tile `index` of class `cls`; lengths and counts scale with size / 64. */
export function drawSampleTile(cls: ClassLabel, index: number, size = SAMPLE_TILE_SIZE): Uint8Array {
  const rand = mulberry32(CLASS_LABELS.indexOf(cls) * 1000 + index + 1);
  const look = LOOKS[cls];
  const scale = size / SAMPLE_TILE_SIZE;
  const rgb = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const grain = (rand() - 0.5) * 18;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = (look.stroma[c] ?? 0) + grain;
  }
  const paint = (cx: number, cy: number, r: number, color: Rgb, alpha: number): void => {
    for (let y = Math.floor(cy - r - 1); y <= cy + r + 1; y++) {
      for (let x = Math.floor(cx - r - 1); x <= cx + r + 1; x++) {
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const d = Math.hypot(x - cx, y - cy);
        const cover = Math.min(1, Math.max(0, r + 0.5 - d)) * alpha;
        for (let c = 0; c < 3; c++) {
          const k = (y * size + x) * 3 + c;
          rgb[k] = (rgb[k] ?? 0) * (1 - cover) + (color[c] ?? 0) * cover;
        }
      }
    }
  };
  for (let l = 0; l < look.lumens; l++) {
    const cx = rand() * size;
    const cy = rand() * size;
    const r = (6 + rand() * 6) * scale;
    paint(cx, cy, r, [248, 240, 246], 0.95);
    if (cls === 'lung_aca') {
      for (let k = 0; k < 12; k++) {
        const a = (k / 12) * 2 * Math.PI;
        paint(cx + Math.cos(a) * (r + 2 * scale), cy + Math.sin(a) * (r + 2 * scale), 2.2 * scale, look.nucleus, 0.9);
      }
    }
  }
  const nuclei = Math.round(look.nuclei * scale * scale);
  for (let n = 0; n < nuclei; n++) {
    const [lo, hi] = look.radius;
    const shade = 0.8 + rand() * 0.4;
    const color: Rgb = [look.nucleus[0] * shade, look.nucleus[1] * shade, look.nucleus[2] * shade];
    paint(rand() * size, rand() * size, (lo + rand() * (hi - lo)) * scale, color, 0.85);
  }
  const out = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) out[i * 4 + c] = Math.max(0, Math.min(255, Math.round(rgb[i * 3 + c] ?? 0)));
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** An RGB test tile of any size for the attack tests: class `seed mod 3`, drawn at index `seed`. */
export function syntheticTile(seed: number, size: number): RgbImage {
  const cls = CLASS_LABELS[seed % CLASS_LABELS.length] as ClassLabel;
  return rgbFromRgba(size, size, drawSampleTile(cls, seed, size));
}
