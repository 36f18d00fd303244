// Writes public/models/tiny/: the tiny ViT preset with fixed-seed random weights in fp16, the demo
// model the app and its end-to-end tests use. Usage: node scripts/make-tiny-model.ts [--out dir]

import { parseArgs } from 'node:util';
import { VIT_PRESETS } from '../src/vit/config.ts';
import { writeModelDir } from '../src/vit/node-io.ts';
import { buildModelFolder, imageProcessorJson, randomVitWeights, vitConfigJson } from '../src/vit/weights.ts';

const TINY_SEED = 20241;

const { values } = parseArgs({ options: { out: { type: 'string', default: 'public/models/tiny' } } });
const config = VIT_PRESETS.tiny;
const files = await buildModelFolder(
  vitConfigJson(config),
  imageProcessorJson({ size: config.image_size, rescale_factor: 1 / 255, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }),
  randomVitWeights(config, TINY_SEED),
  'F16',
);
await writeModelDir(values.out, files);
const bytes = [...files.values()].reduce((sum, f) => sum + f.byteLength, 0);
console.log(`wrote ${values.out}: ${[...files.keys()].join(', ')} (${(bytes / 1e6).toFixed(2)} MB)`);
