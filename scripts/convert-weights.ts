// Converts a checkpoint folder into a cipherpath model folder (canonical tensor names, chosen
// storage dtype, manifest.json with sha256s, pooling and token width). Reads HF ViTModel /
// ViTForImageClassification, HF Dinov2Model / Dinov2WithRegistersModel (config.json +
// preprocessor_config.json) and timm folders as the hub ships them (config.json with architecture,
// model_args, pretrained_cfg); weights in model.safetensors or shards named by
// model.safetensors.index.json. Nothing is fetched from a hub.
//
// Usage: npm run convert-weights -- --from <dir> --out <dir> [--dtype f32|f16|bf16]
//          [--pooling cls|cls+mean|mean] [--image-size N]

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDecimalBytes } from '../src/common/format-bytes.ts';
import { browserFit } from '../src/vit/catalogue.ts';
import { convertCheckpoint } from '../src/vit/checkpoint.ts';
import { imageProcessorJson, POOLINGS, tokenWidth } from '../src/vit/config.ts';
import type { Pooling } from '../src/vit/config.ts';
import { readSafetensorsHeader, writeModelDir } from '../src/vit/node-io.ts';
import { readSafetensors } from '../src/vit/safetensors.ts';
import type { DecodedTensor, SafetensorsDtype } from '../src/vit/safetensors.ts';
import { buildModelFolder, vitConfigJson } from '../src/vit/weights.ts';

const DTYPES: Record<string, SafetensorsDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };
const USAGE = 'usage: npm run convert-weights -- --from <dir> --out <dir> [--dtype f32|f16|bf16] [--pooling cls|cls+mean|mean] [--image-size N]';

async function readJson(dir: string, name: string, optional = false): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, name), 'utf8');
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${join(dir, name)}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${join(dir, name)}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** The one-line fix for a folder that has only PyTorch pickles, which are never unpickled here (they can run code). */
function pickleRefusal(dir: string, pickles: string[]): Error {
  const file = pickles[0] as string;
  return new Error(
    `${dir}: only PyTorch pickle weights (${pickles.join(', ')}), which are not read (unpickling runs code). Convert once with: ` +
      `python -c "import torch, safetensors.torch as st; sd = torch.load('${join(dir, file)}', map_location='cpu', weights_only=True); ` +
      `sd = sd.get('state_dict', sd); st.save_file({k: v.contiguous() for k, v in sd.items()}, '${join(dir, 'model.safetensors')}')"`,
  );
}

/** The checkpoint's safetensors files: model.safetensors, or the shards its index names. */
async function checkpointShards(dir: string): Promise<string[]> {
  if (existsSync(join(dir, 'model.safetensors'))) return ['model.safetensors'];
  const index = (await readJson(dir, 'model.safetensors.index.json', true)) as { weight_map?: Record<string, string> } | undefined;
  if (!index) {
    const pickles = (await readdir(dir)).filter((name) => /\.(bin|pth|pt|ckpt|torch)$/.test(name));
    if (pickles.length > 0) throw pickleRefusal(dir, pickles);
    throw new Error(`${dir}: no model.safetensors (nor model.safetensors.index.json)`);
  }
  return [...new Set(Object.values(index.weight_map ?? {}))];
}

/** Refuses a checkpoint a browser tab cannot hold from the files' headers alone, before any tensor is read. */
async function refuseOversized(dir: string, shards: readonly string[]): Promise<void> {
  let parameters = 0;
  for (const shard of shards) for (const entry of (await readSafetensorsHeader(join(dir, shard))).values()) parameters += entry.shape.reduce((a, b) => a * b, 1);
  browserFit({ name: `${dir} (its safetensors headers)`, parameters });
}

/** All tensors of the checkpoint, decoded to float32. */
async function readCheckpointTensors(dir: string, shards: readonly string[]): Promise<Map<string, DecodedTensor>> {
  const tensors = new Map<string, DecodedTensor>();
  for (const shard of shards) {
    for (const [name, tensor] of readSafetensors(new Uint8Array(await readFile(join(dir, shard)))).tensors) tensors.set(name, tensor);
  }
  return tensors;
}

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    out: { type: 'string' },
    dtype: { type: 'string', default: 'f32' },
    pooling: { type: 'string' },
    'image-size': { type: 'string' },
  },
});
try {
  if (!values.from || !values.out) throw new Error(USAGE);
  const dtype = DTYPES[values.dtype.toLowerCase()];
  if (!dtype) throw new Error(`--dtype ${values.dtype}: expected f32, f16 or bf16`);
  if (values.pooling !== undefined && !POOLINGS.includes(values.pooling as Pooling)) {
    throw new Error(`--pooling ${values.pooling}: expected ${POOLINGS.join(', ')}`);
  }
  const imageSize = values['image-size'] === undefined ? undefined : Number(values['image-size']);
  if (imageSize !== undefined && !(Number.isInteger(imageSize) && imageSize > 0)) throw new Error(`--image-size ${values['image-size']}: expected a positive integer`);
  const configJson = await readJson(values.from, 'config.json');
  const processorJson = await readJson(values.from, 'preprocessor_config.json', true);
  const shards = await checkpointShards(values.from);
  await refuseOversized(values.from, shards);
  const converted = convertCheckpoint(configJson, processorJson, await readCheckpointTensors(values.from, shards), {
    ...(values.pooling ? { pooling: values.pooling as Pooling } : {}),
    ...(imageSize ? { imageSize } : {}),
  });
  const { config, processor, weights, dropped } = converted;
  const files = await buildModelFolder(vitConfigJson(config), imageProcessorJson(processor), weights, dtype);
  await writeModelDir(values.out, files);
  const resampled = converted.resampledFrom ? `; position grid resampled ${converted.resampledFrom} -> ${config.image_size / config.patch_size}` : '';
  console.log(
    `wrote ${values.out}: ${converted.family}${converted.catalogue ? ` (recognised: ${converted.catalogue})` : ''}, ${weights.size} tensors as ${dtype} (${formatDecimalBytes(files.get('model.safetensors')?.byteLength ?? 0)}), pooling ${config.pooling}, ` +
      `token width ${tokenWidth(config)}${resampled}${dropped.length ? `; dropped ${dropped.join(', ')}` : ''}`,
  );
} catch (error) {
  console.error(`convert-weights: ${(error as Error).message}`);
  process.exitCode = 1;
}
