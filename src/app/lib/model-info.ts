// The model in use, read from its folder's manifest without loading the weights: the same identity (sha256 of the
// files' checksums) that keys the token cache.
import { checkMemory, estimateModelMemory, memoryAllowance, type MemoryAllowance, type MemoryEstimate } from '../../vit/buffer-plan.ts';
import { parseImageProcessorConfig, parseVitConfig, tokenWidth } from '../../vit/config.ts';
import { modelIdentity, parseManifest } from '../../vit/weights.ts';
import { type ModelChoice, modelFileReader } from './model-choice.ts';

export interface ModelInfo {
  /** Where the model comes from: its path on this server, or the name of the picked folder. */
  source: string;
  modelSha256: string;
  dtype: string;
  files: { name: string; bytes: number; sha256: string }[];
  hiddenSize: number | null;
  /** Values per token the model gives (hidden size, doubled by cls+mean pooling); null when config.json is unreadable. */
  tokenWidth: number | null;
  layers: number | null;
  imageSize: number | null;
  /** What the model needs on WebAssembly (the path every browser has) and what this browser allows; null when config.json is unreadable. */
  memory: { estimate: MemoryEstimate; allowance: MemoryAllowance | null; refusal: string | null } | null;
}

/** Images per forward pass the worker uses by default. */
const WORKER_BATCH = 8;

function memoryOf(config: Record<string, unknown>, dtype: string): ModelInfo['memory'] {
  try {
    const parsed = parseVitConfig(config);
    const estimate = estimateModelMemory(parsed, 'perHead', WORKER_BATCH, dtype === 'F32' ? 4 : 2);
    const allowance = memoryAllowance('wasm', (navigator as { deviceMemory?: number }).deviceMemory, undefined);
    let refusal: string | null = null;
    try {
      checkMemory(estimate, allowance, 'This model');
    } catch (error) {
      refusal = (error as Error).message;
    }
    return { estimate, allowance, refusal };
  } catch {
    return null;
  }
}

function widthOf(config: Record<string, unknown>): number | null {
  try {
    return tokenWidth(parseVitConfig(config));
  } catch {
    return null;
  }
}

export async function readModelInfo(choice: ModelChoice): Promise<ModelInfo> {
  const read = modelFileReader(choice);
  const text = async (name: string) => new TextDecoder().decode(await read(name));
  const manifest = parseManifest(JSON.parse(await text('manifest.json')));
  const config = (await text('config.json').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({}))) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    source: choice.kind === 'url' ? choice.url : `picked folder ${choice.label}`,
    modelSha256: await modelIdentity(manifest.files),
    dtype: manifest.dtype,
    files: Object.entries(manifest.files).map(([name, f]) => ({ name, bytes: f.bytes, sha256: f.sha256 })),
    hiddenSize: num(config.hidden_size),
    tokenWidth: widthOf(config),
    layers: num(config.num_hidden_layers),
    imageSize: num(config.image_size),
    memory: memoryOf(config, manifest.dtype),
  };
}

/** The side of the model's input in pixels (its preprocessor's size): the tile size slides are cut at. */
export async function readModelInputSize(choice: ModelChoice): Promise<number> {
  const bytes = await modelFileReader(choice)('preprocessor_config.json');
  return parseImageProcessorConfig(JSON.parse(new TextDecoder().decode(bytes))).size;
}
