// Converts a Hugging Face ViT checkpoint folder (config.json, preprocessor_config.json and
// model.safetensors or sharded model-*.safetensors with model.safetensors.index.json; ViTModel or
// ViTForImageClassification key names, with or without the "vit." prefix) into a cipherpath model
// folder: canonical tensor names, chosen storage dtype, manifest.json with sha256s.
//
// Usage: npm run convert-weights -- --from <hf dir> --out <dir> [--dtype f32|f16|bf16]

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseVitConfig } from '../src/vit/config.ts';
import { writeModelDir } from '../src/vit/node-io.ts';
import { readSafetensors } from '../src/vit/safetensors.ts';
import type { DecodedTensor, SafetensorsDtype } from '../src/vit/safetensors.ts';
import { buildModelFolder, canonicalVitWeights } from '../src/vit/weights.ts';

const DTYPES: Record<string, SafetensorsDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

async function readText(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (error) {
    throw new Error(`${join(dir, name)}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
}

/** All tensors of the checkpoint, from one file or from the shards its index names. */
async function readCheckpointTensors(dir: string): Promise<Map<string, DecodedTensor>> {
  const single = join(dir, 'model.safetensors');
  const file = await readFile(single).catch(() => undefined);
  if (file) return readSafetensors(new Uint8Array(file)).tensors;
  const indexText = await readText(dir, 'model.safetensors.index.json').catch(() => {
    throw new Error(`${dir}: no model.safetensors (nor model.safetensors.index.json); PyTorch .bin checkpoints must be saved as safetensors first`);
  });
  const weightMap = (JSON.parse(indexText) as { weight_map?: Record<string, string> }).weight_map ?? {};
  const tensors = new Map<string, DecodedTensor>();
  for (const shard of new Set(Object.values(weightMap))) {
    for (const [name, tensor] of readSafetensors(new Uint8Array(await readFile(join(dir, shard)))).tensors) tensors.set(name, tensor);
  }
  return tensors;
}

const { values } = parseArgs({
  options: { from: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string', default: 'f32' } },
});
try {
  if (!values.from || !values.out) throw new Error('usage: npm run convert-weights -- --from <hf dir> --out <dir> [--dtype f32|f16|bf16]');
  const dtype = DTYPES[values.dtype.toLowerCase()];
  if (!dtype) throw new Error(`--dtype ${values.dtype}: expected f32, f16 or bf16`);
  const configJson = await readText(values.from, 'config.json');
  const processorJson = await readText(values.from, 'preprocessor_config.json');
  const config = parseVitConfig(JSON.parse(configJson));
  const { weights, dropped } = canonicalVitWeights(config, await readCheckpointTensors(values.from));
  const files = await buildModelFolder(configJson, processorJson, weights, dtype);
  await writeModelDir(values.out, files);
  const megabytes = ((files.get('model.safetensors')?.byteLength ?? 0) / 1e6).toFixed(1);
  console.log(`wrote ${values.out}: ${weights.size} tensors as ${dtype} (${megabytes} MB)${dropped.length ? `; dropped ${dropped.join(', ')}` : ''}`);
} catch (error) {
  console.error(`convert-weights: ${(error as Error).message}`);
  process.exitCode = 1;
}
