// The model in use, read from its folder's manifest without loading the weights: the same identity (sha256 of the
// files' checksums) that keys the token cache.
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
  };
}

/** The side of the model's input in pixels (its preprocessor's size): the tile size slides are cut at. */
export async function readModelInputSize(choice: ModelChoice): Promise<number> {
  const bytes = await modelFileReader(choice)('preprocessor_config.json');
  return parseImageProcessorConfig(JSON.parse(new TextDecoder().decode(bytes))).size;
}
