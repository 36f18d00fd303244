// Writes the bundled sample tiles: small synthetic H&E-like tiles in the LC25000 folder layout
// (lung_aca/, lung_n/, lung_scc/). They are procedurally drawn from a fixed seed, so the repo ships no patient data and
// the demo and the tests see the same pixels on every machine. Run: node scripts/make-sample-tiles.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { mulberry32 } from '../src/vit/weights.ts';

export const SAMPLE_CLASSES = ['lung_aca', 'lung_n', 'lung_scc'] as const;
export type SampleClass = (typeof SAMPLE_CLASSES)[number];

const TILE = 64;
const TILES_PER_CLASS = 6;


type Rgb = [number, number, number];

interface ClassLook {
  stroma: Rgb;
  nucleus: Rgb;
  nuclei: number;
  radius: [number, number];
  lumens: number;
}

// Eosin-pink stroma and haematoxylin-purple nuclei; the classes differ the way a pathologist would describe them:
// benign = sparse small nuclei and open air spaces, adenocarcinoma = glands (nuclei ringing lumens),
// squamous cell carcinoma = dense sheets of large irregular nuclei in redder cytoplasm.
const LOOKS: Record<SampleClass, ClassLook> = {
  lung_n: { stroma: [236, 196, 214], nucleus: [92, 62, 140], nuclei: 14, radius: [1.5, 2.5], lumens: 4 },
  lung_aca: { stroma: [222, 160, 196], nucleus: [78, 44, 128], nuclei: 34, radius: [2, 3.2], lumens: 2 },
  lung_scc: { stroma: [214, 120, 150], nucleus: [58, 28, 96], nuclei: 60, radius: [2.6, 4.2], lumens: 0 },
};

export function drawSampleTile(cls: SampleClass, index: number): Uint8Array {
  const rand = mulberry32(SAMPLE_CLASSES.indexOf(cls) * 1000 + index + 1);
  const look = LOOKS[cls];
  const rgb = new Float32Array(TILE * TILE * 3);
  for (let i = 0; i < TILE * TILE; i++) {
    const grain = (rand() - 0.5) * 18;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = (look.stroma[c] ?? 0) + grain;
  }
  const paint = (cx: number, cy: number, r: number, color: Rgb, alpha: number): void => {
    for (let y = Math.floor(cy - r - 1); y <= cy + r + 1; y++) {
      for (let x = Math.floor(cx - r - 1); x <= cx + r + 1; x++) {
        if (x < 0 || y < 0 || x >= TILE || y >= TILE) continue;
        const d = Math.hypot(x - cx, y - cy);
        const cover = Math.min(1, Math.max(0, r + 0.5 - d)) * alpha;
        for (let c = 0; c < 3; c++) {
          const k = (y * TILE + x) * 3 + c;
          rgb[k] = (rgb[k] ?? 0) * (1 - cover) + (color[c] ?? 0) * cover;
        }
      }
    }
  };
  for (let l = 0; l < look.lumens; l++) {
    const cx = rand() * TILE;
    const cy = rand() * TILE;
    const r = 6 + rand() * 6;
    paint(cx, cy, r, [248, 240, 246], 0.95);
    if (cls === 'lung_aca') {
      for (let k = 0; k < 12; k++) {
        const a = (k / 12) * 2 * Math.PI;
        paint(cx + Math.cos(a) * (r + 2), cy + Math.sin(a) * (r + 2), 2.2, look.nucleus, 0.9);
      }
    }
  }
  for (let n = 0; n < look.nuclei; n++) {
    const [lo, hi] = look.radius;
    const shade = 0.8 + rand() * 0.4;
    const color: Rgb = [look.nucleus[0] * shade, look.nucleus[1] * shade, look.nucleus[2] * shade];
    paint(rand() * TILE, rand() * TILE, lo + rand() * (hi - lo), color, 0.85);
  }
  const out = new Uint8Array(TILE * TILE * 4);
  for (let i = 0; i < TILE * TILE; i++) {
    for (let c = 0; c < 3; c++) out[i * 4 + c] = Math.max(0, Math.min(255, Math.round(rgb[i * 3 + c] ?? 0)));
    out[i * 4 + 3] = 255;
  }
  return out;
}

function writeTiles(root: string): void {
  const index: { path: string; label: SampleClass }[] = [];
  for (const cls of SAMPLE_CLASSES) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < TILES_PER_CLASS; i++) {
      const png = new PNG({ width: TILE, height: TILE });
      png.data = Buffer.from(drawSampleTile(cls, i));
      const name = `${cls}/${cls}_${i + 1}.png`;
      writeFileSync(join(root, name), PNG.sync.write(png));
      index.push({ path: name, label: cls });
    }
  }
  writeFileSync(join(root, 'index.json'), `${JSON.stringify({ classes: SAMPLE_CLASSES, tiles: index }, null, 2)}\n`);
}

if (import.meta.main) writeTiles(join(import.meta.dirname, '..', 'public', 'samples'));
