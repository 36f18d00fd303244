// The model in use, read from its folder's manifest without loading the weights: the same identity (sha256 of the
// files' checksums) that keys the token cache.
import { modelIdentity, parseManifest } from '../../vit/weights.ts';
import { DEFAULT_MODEL_URL } from './extraction.ts';

export interface ModelInfo {
  url: string;
  modelSha256: string;
  dtype: string;
  files: { name: string; bytes: number; sha256: string }[];
  hiddenSize: number | null;
  layers: number | null;
  imageSize: number | null;
}

export async function readModelInfo(url = DEFAULT_MODEL_URL): Promise<ModelInfo> {
  const [manifestResponse, configResponse] = await Promise.all([fetch(`${url}manifest.json`), fetch(`${url}config.json`)]);
  if (!manifestResponse.ok) throw new Error(`${url}manifest.json answered ${manifestResponse.status}`);
  const manifest = parseManifest(await manifestResponse.json());
  const config = configResponse.ok ? ((await configResponse.json()) as Record<string, unknown>) : {};
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    url,
    modelSha256: await modelIdentity(manifest.files),
    dtype: manifest.dtype,
    files: Object.entries(manifest.files).map(([name, f]) => ({ name, bytes: f.bytes, sha256: f.sha256 })),
    hiddenSize: num(config.hidden_size),
    layers: num(config.num_hidden_layers),
    imageSize: num(config.image_size),
  };
}
