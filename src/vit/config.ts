// ViT architecture and image-processor configuration of a cipherpath model folder. Field names
// follow HF's ViTConfig / Dinov2Config, so a HF ViTModel config.json is usable as is; the
// extensions (registers, LayerScale, SwiGLU, pooling) default to plain ViTModel. Checkpoints of
// other families are translated by checkpoint-config.ts.

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
  /** MLP `silu(x W_gate) * (x W_up)` (timm SwiGLUPacked, HF Dinov2 use_swiglu_ffn) instead of GELU; intermediate_size is the gated width. */
  use_swiglu_ffn: boolean;
  /** Per-channel LayerScale after attention and MLP (DINOv2, timm init_values). */
  layer_scale: boolean;
  /** Register tokens inserted after [CLS], without position embedding (HF Dinov2WithRegisters order). */
  num_register_tokens: number;
  /** What a tile's token is: [CLS], [CLS] then the mean patch token (2 x hidden_size), or the mean patch token. */
  pooling: Pooling;
}

export const POOLINGS = ['cls', 'cls+mean', 'mean'] as const;
export type Pooling = (typeof POOLINGS)[number];

/** Values per token a model folder yields. */
export function tokenWidth(config: Pick<VitConfig, 'hidden_size' | 'pooling'>): number {
  return config.pooling === 'cls+mean' ? 2 * config.hidden_size : config.hidden_size;
}

/** Fields of VitConfig with the value a plain HF ViTModel has. */
export const PLAIN_VIT_EXTENSIONS = Object.freeze({ use_swiglu_ffn: false, layer_scale: false, num_register_tokens: 0, pooling: 'cls' as Pooling });

export type VitPresetName = 'vit-s16' | 'vit-b16' | 'vit-l16' | 'paper' | 'tiny' | 'vit-s14-registers';

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
  ...PLAIN_VIT_EXTENSIONS,
};

export const VIT_PRESETS: Readonly<Record<VitPresetName, VitConfig>> = Object.freeze({
  'vit-b16': Object.freeze({ ...VIT_B16 }),
  // timm vit_small_patch16_224 and vit_large_patch16_224 widths (the bench sizes: ~22M and ~304M parameters).
  'vit-s16': Object.freeze({ ...VIT_B16, hidden_size: 384, num_attention_heads: 6, intermediate_size: 1536 }),
  'vit-l16': Object.freeze({ ...VIT_B16, hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096 }),
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
  // A whole ViT-S/14 with registers (384 wide, 12 layers, 6 heads, SwiGLU 1024, LayerScale, 4 registers, CLS || mean)
  // at 98 px (7 x 7 patches) instead of 224, so SwiftShader's WebGPU runs it in an end-to-end test.
  'vit-s14-registers': Object.freeze({
    ...VIT_B16,
    image_size: 98,
    patch_size: 14,
    hidden_size: 384,
    num_attention_heads: 6,
    intermediate_size: 1024,
    layer_norm_eps: 1e-6,
    use_swiglu_ffn: true,
    layer_scale: true,
    num_register_tokens: 4,
    pooling: 'cls+mean' as Pooling,
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

function booleanField(json: Record<string, unknown>, field: string, file: string, fallback: boolean): boolean {
  const value = json[field] ?? fallback;
  if (typeof value !== 'boolean') throw new Error(`${file}: field "${field}" must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Reads a cipherpath / HF ViT `config.json`. The size fields are required; `num_channels`,
 * `layer_norm_eps`, `hidden_act` and `qkv_bias` default as in HF's ViTConfig, the extensions as in
 * PLAIN_VIT_EXTENSIONS. Extra fields (id2label, ...) are ignored.
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
  const pooling = json.pooling ?? 'cls';
  if (!POOLINGS.includes(pooling as Pooling)) {
    throw new Error(`${file}: pooling ${JSON.stringify(pooling)} is not one of ${POOLINGS.join(', ')}`);
  }
  const registers = json.num_register_tokens ?? 0;
  if (!Number.isInteger(registers) || (registers as number) < 0) {
    throw new Error(`${file}: field "num_register_tokens" must be a non-negative integer, got ${JSON.stringify(registers)}`);
  }
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
    qkv_bias: booleanField(json, 'qkv_bias', file, true),
    use_swiglu_ffn: booleanField(json, 'use_swiglu_ffn', file, false),
    layer_scale: booleanField(json, 'layer_scale', file, false),
    num_register_tokens: registers as number,
    pooling: pooling as Pooling,
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

/** Pillow filters the preprocessing reproduces (PIL codes 2 and 3). */
export type Resample = 'bilinear' | 'bicubic';
const RESAMPLE_CODES: Record<number, Resample> = { 2: 'bilinear', 3: 'bicubic' };
const RESAMPLE_NAMES: Record<Resample, number> = { bilinear: 2, bicubic: 3 };

/**
 * The parts of a HF image processor (ViTImageProcessor, BitImageProcessor) that change pixels.
 * Either the image is resized to size x size, or (shortest_edge set) its shorter side is resized to
 * shortest_edge, keeping the aspect ratio, and the centre size x size is cropped out.
 */
export interface ImageProcessorConfig {
  image_mean: [number, number, number];
  image_std: [number, number, number];
  /** Square side of the model input. */
  size: number;
  rescale_factor: number;
  /** Absent: the defaults of older folders (bilinear, square resize). */
  resample?: Resample;
  shortest_edge?: number;
}

function rgbTriple(json: Record<string, unknown>, field: string, file: string, fallback: number): [number, number, number] {
  const value = json[field] ?? [fallback, fallback, fallback];
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`${file}: field "${field}" must be an array of 3 numbers, got ${JSON.stringify(value)}`);
  }
  return [value[0] as number, value[1] as number, value[2] as number];
}

function squareSize(raw: unknown, field: string, file: string): number {
  if (typeof raw === 'number') return positiveInt({ [field]: raw }, field, file);
  if (isRecord(raw) && raw.height !== undefined && raw.width !== undefined) {
    const height = positiveInt(raw, 'height', `${file} ${field}`);
    const width = positiveInt(raw, 'width', `${file} ${field}`);
    if (height !== width) throw new Error(`${file}: ${field} must be square, got ${height} x ${width}`);
    return height;
  }
  throw new Error(`${file}: field "${field}" must be a number or {height, width}, got ${JSON.stringify(raw)}`);
}

/**
 * Reads a HF `preprocessor_config.json` (ViTImageProcessor or BitImageProcessor). `size` may be a
 * number, `{height, width}` (square only) or `{shortest_edge}` (then `crop_size` with
 * `do_center_crop` gives the input side); `resample` 2 (bilinear) or 3 (bicubic);
 * `do_rescale: false` / `do_normalize: false` are folded into `rescale_factor: 1` / mean 0, std 1.
 * Defaults are ViTImageProcessor's (mean = std = 0.5, 224 px, 1/255, bilinear), or BitImageProcessor's
 * resample (bicubic) when it names that type.
 */
export function parseImageProcessorConfig(json: unknown): ImageProcessorConfig {
  const file = 'preprocessor_config.json';
  if (!isRecord(json)) throw new Error(`${file}: expected a JSON object`);
  if (json.do_resize === false) throw new Error(`${file}: do_resize false is not supported (ViT needs a fixed size)`);
  const rawSize = json.size ?? 224;
  let size: number;
  let shortestEdge: number | undefined;
  if (isRecord(rawSize) && rawSize.shortest_edge !== undefined) {
    shortestEdge = positiveInt(rawSize, 'shortest_edge', `${file} size`);
    if (json.do_center_crop === false) throw new Error(`${file}: size.shortest_edge without do_center_crop gives non-square inputs`);
    size = json.crop_size === undefined ? shortestEdge : squareSize(json.crop_size, 'crop_size', file);
    if (size > shortestEdge) throw new Error(`${file}: crop_size ${size} is larger than size.shortest_edge ${shortestEdge}`);
  } else {
    size = squareSize(rawSize, 'size', file);
  }
  const defaultResample = json.image_processor_type === 'BitImageProcessor' ? 3 : 2;
  const resample = RESAMPLE_CODES[json.resample === undefined ? defaultResample : (json.resample as number)];
  if (!resample) throw new Error(`${file}: resample ${JSON.stringify(json.resample)} is not supported (2 bilinear or 3 bicubic)`);
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
    ...(resample === 'bilinear' ? {} : { resample }),
    ...(shortestEdge === undefined ? {} : { shortest_edge: shortestEdge }),
  };
}

/** HF-style preprocessor_config.json text for `processor` (ViTImageProcessor, or BitImageProcessor with shortest-edge resize). */
export function imageProcessorJson(processor: ImageProcessorConfig): string {
  const resample = processor.resample ?? 'bilinear';
  const geometry =
    processor.shortest_edge === undefined
      ? { image_processor_type: 'ViTImageProcessor', do_resize: true, size: { height: processor.size, width: processor.size } }
      : {
          image_processor_type: 'BitImageProcessor',
          do_resize: true,
          size: { shortest_edge: processor.shortest_edge },
          do_center_crop: true,
          crop_size: { height: processor.size, width: processor.size },
        };
  const json = {
    ...geometry,
    resample: RESAMPLE_NAMES[resample],
    do_rescale: true,
    rescale_factor: processor.rescale_factor,
    do_normalize: true,
    image_mean: processor.image_mean,
    image_std: processor.image_std,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}
