// Writes a model folder with fixed-seed random weights. By default: public/models/tiny/, the tiny
// preset in fp16, the demo model the app and its end-to-end tests use (committed, < 2 MB).
// Other presets (for browser benchmarks) need --out, outside what gets committed: ViT-B/16 is
// 172 MB in fp16.
//
// Usage: node scripts/make-tiny-model.ts [--preset tiny|paper|vit-b16 --out <dir>] [--dtype f16|f32|bf16]

import { parseArgs } from 'node:util';
import { formatBytes } from '../src/common/format-bytes.ts';
import { imageProcessorJson, VIT_PRESETS } from '../src/vit/config.ts';
import type { VitPresetName } from '../src/vit/config.ts';
import { writeModelDir } from '../src/vit/node-io.ts';
import type { SafetensorsDtype } from '../src/vit/safetensors.ts';
import { buildModelFolder, randomVitWeights, vitConfigJson } from '../src/vit/weights.ts';

const SEED = 20241;
const DTYPES: Record<string, SafetensorsDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

const { values } = parseArgs({
  options: { preset: { type: 'string', default: 'tiny' }, out: { type: 'string' }, dtype: { type: 'string', default: 'f16' } },
});
try {
  if (!(values.preset in VIT_PRESETS)) throw new Error(`--preset ${values.preset}: expected one of ${Object.keys(VIT_PRESETS).join(', ')}`);
  const preset = values.preset as VitPresetName;
  if (preset !== 'tiny' && !values.out) throw new Error(`--preset ${preset} needs --out (keep large random models out of public/)`);
  const dtype = DTYPES[values.dtype.toLowerCase()];
  if (!dtype) throw new Error(`--dtype ${values.dtype}: expected f16, f32 or bf16`);
  const out = values.out ?? 'public/models/tiny';
  const config = VIT_PRESETS[preset];
  const files = await buildModelFolder(
    vitConfigJson(config),
    imageProcessorJson({ size: config.image_size, rescale_factor: 1 / 255, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }),
    randomVitWeights(config, SEED),
    dtype,
  );
  await writeModelDir(out, files);
  const bytes = [...files.values()].reduce((sum, f) => sum + f.byteLength, 0);
  console.log(`wrote ${out}: ${[...files.keys()].join(', ')} (${formatBytes(bytes)})`);
} catch (error) {
  console.error(`make-tiny-model: ${(error as Error).message}`);
  process.exitCode = 1;
}
