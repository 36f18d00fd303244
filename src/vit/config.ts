// ViT architecture and image-processor configuration, read from Hugging Face `config.json` /
// `preprocessor_config.json` files. Field names follow HF's ViTConfig so a checkpoint folder's
// config.json is usable as is.

export interface VitConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  layer_norm_eps: number;
  /** Only exact (erf) GELU, HF's `gelu`, is implemented. */
  hidden_act: 'gelu';
  qkv_bias: boolean;
}

export type VitPresetName = 'vit-b16' | 'paper' | 'tiny';

const VIT_B16: VitConfig = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
  qkv_bias: true,
};

export const VIT_PRESETS: Readonly<Record<VitPresetName, VitConfig>> = Object.freeze({
  'vit-b16': Object.freeze({ ...VIT_B16 }),
  // The paper's configuration: 200 px tiles cut into 8 x 8 = 64 patches of 25 px, ViT-B widths.
  paper: Object.freeze({ ...VIT_B16, image_size: 200, patch_size: 25 }),
  // Small enough to run on a software (SwiftShader) WebGPU adapter in end-to-end tests.
  tiny: Object.freeze({
    ...VIT_B16,
    image_size: 32,
    patch_size: 8,
    hidden_size: 192,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    intermediate_size: 768,
  }),
});

/** Number of patches per image (the sequence length is this plus one for [CLS]). */
export function numPatches(config: VitConfig): number {
  return (config.image_size / config.patch_size) ** 2;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(json: Record<string, unknown>, field: string, file: string, fallback?: number): number {
  const value = json[field] ?? fallback;
  if (value === undefined) throw new Error(`${file}: missing field "${field}"`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${file}: field "${field}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Reads a HF ViT `config.json`. The size fields are required; `num_channels`, `layer_norm_eps`,
 * `hidden_act` and `qkv_bias` default as in HF's ViTConfig. Extra fields (id2label, ...) are ignored.
 */
export function parseVitConfig(json: unknown): VitConfig {
  const file = 'config.json';
  if (!isRecord(json)) throw new Error(`${file}: expected a JSON object`);
  if (json.model_type !== undefined && json.model_type !== 'vit') {
    throw new Error(`${file}: model_type is ${JSON.stringify(json.model_type)}, expected "vit"`);
  }
  const hiddenAct = json.hidden_act ?? 'gelu';
  if (hiddenAct !== 'gelu') {
    throw new Error(`${file}: hidden_act ${JSON.stringify(hiddenAct)} is not supported (only exact "gelu")`);
  }
  const qkvBias = json.qkv_bias ?? true;
  if (typeof qkvBias !== 'boolean') throw new Error(`${file}: field "qkv_bias" must be a boolean`);
  const eps = json.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0)) {
    throw new Error(`${file}: field "layer_norm_eps" must be a positive number, got ${JSON.stringify(eps)}`);
  }
  const config: VitConfig = {
    hidden_size: positiveInt(json, 'hidden_size', file),
    num_hidden_layers: positiveInt(json, 'num_hidden_layers', file),
    num_attention_heads: positiveInt(json, 'num_attention_heads', file),
    intermediate_size: positiveInt(json, 'intermediate_size', file),
    image_size: positiveInt(json, 'image_size', file),
    patch_size: positiveInt(json, 'patch_size', file),
    num_channels: positiveInt(json, 'num_channels', file, 3),
    layer_norm_eps: eps,
    hidden_act: 'gelu',
    qkv_bias: qkvBias,
  };
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(
      `${file}: hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`,
    );
  }
  if (config.image_size % config.patch_size !== 0) {
    throw new Error(`${file}: image_size ${config.image_size} is not divisible by patch_size ${config.patch_size}`);
  }
  if (config.num_channels !== 3) {
    throw new Error(`${file}: num_channels ${config.num_channels} is not supported (RGB images need 3)`);
  }
  return config;
}

/** The parts of HF's ViTImageProcessor configuration that change pixels (resampling is always bilinear). */
export interface ImageProcessorConfig {
  image_mean: [number, number, number];
  image_std: [number, number, number];
  /** Square side the image is resized to. */
  size: number;
  rescale_factor: number;
}

function rgbTriple(json: Record<string, unknown>, field: string, file: string, fallback: number): [number, number, number] {
  const value = json[field] ?? [fallback, fallback, fallback];
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`${file}: field "${field}" must be an array of 3 numbers, got ${JSON.stringify(value)}`);
  }
  return [value[0] as number, value[1] as number, value[2] as number];
}

/**
 * Reads a HF `preprocessor_config.json` (ViTImageProcessor). `size` may be a number or
 * `{height, width}` (square only); `do_rescale: false` / `do_normalize: false` are folded into
 * `rescale_factor: 1` / mean 0, std 1. Defaults are ViTImageProcessor's (mean = std = 0.5, 224 px, 1/255).
 */
export function parseImageProcessorConfig(json: unknown): ImageProcessorConfig {
  const file = 'preprocessor_config.json';
  if (!isRecord(json)) throw new Error(`${file}: expected a JSON object`);
  const rawSize = json.size ?? 224;
  let size: number;
  if (typeof rawSize === 'number') {
    size = positiveInt({ size: rawSize }, 'size', file);
  } else if (isRecord(rawSize) && rawSize.height !== undefined && rawSize.width !== undefined) {
    const height = positiveInt(rawSize, 'height', `${file} size`);
    const width = positiveInt(rawSize, 'width', `${file} size`);
    if (height !== width) throw new Error(`${file}: size must be square, got ${height} x ${width}`);
    size = height;
  } else {
    throw new Error(`${file}: field "size" must be a number or {height, width}, got ${JSON.stringify(rawSize)}`);
  }
  if (json.do_resize === false) throw new Error(`${file}: do_resize false is not supported (ViT needs a fixed size)`);
  const rescale = json.rescale_factor ?? 1 / 255;
  if (typeof rescale !== 'number' || !(rescale > 0)) {
    throw new Error(`${file}: field "rescale_factor" must be a positive number, got ${JSON.stringify(rescale)}`);
  }
  const normalize = json.do_normalize !== false;
  const std = normalize ? rgbTriple(json, 'image_std', file, 0.5) : ([1, 1, 1] as [number, number, number]);
  if (std.some((s) => s === 0)) throw new Error(`${file}: image_std must not contain 0`);
  return {
    image_mean: normalize ? rgbTriple(json, 'image_mean', file, 0.5) : [0, 0, 0],
    image_std: std,
    size,
    rescale_factor: json.do_rescale === false ? 1 : rescale,
  };
}
