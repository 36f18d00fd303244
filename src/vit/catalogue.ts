// Pathology foundation models the converter knows: what they are, how wide their tokens are, what
// they were trained on and under which licence. No weights ship (they are licensed and often
// gated); the user downloads and converts them (npm run convert-weights). A converted checkpoint is
// recognised by its shapes, and its preset (pooling) is filled in. Models of 600M parameters or
// more are refused: a browser tab cannot hold them (see browserFit).

import { tokenWidth } from './config.ts';
import type { Pooling, VitConfig } from './config.ts';

/** The checkpoint family a model ships in (src/vit/checkpoint.ts reads all three). */
export type CatalogueFamily = 'hf-vit' | 'hf-dinov2' | 'timm';

export interface CatalogueModel {
  name: string;
  hub: string;
  family: CatalogueFamily;
  architecture: string;
  /** Shapes that identify it in a converted checkpoint. */
  shape: Pick<VitConfig, 'hidden_size' | 'num_hidden_layers' | 'patch_size' | 'num_register_tokens' | 'use_swiglu_ffn'>;
  pooling: Pooling;
  parameters: number;
  tile: string;
  licence: string;
  gated: boolean;
  /** Why it cannot be used here, when it cannot. */
  unsupported?: string;
}

const shape = (hidden_size: number, num_hidden_layers: number, patch_size: number, num_register_tokens = 0, use_swiglu_ffn = false) => ({
  hidden_size, num_hidden_layers, patch_size, num_register_tokens, use_swiglu_ffn,
});

export const CATALOGUE: readonly CatalogueModel[] = [
  { name: 'Phikon', hub: 'owkin/phikon', family: 'hf-vit', architecture: 'HF ViTModel ViT-B/16', shape: shape(768, 12, 16), pooling: 'cls', parameters: 85.8e6, tile: '224 px @ 20x', licence: 'Owkin non-commercial', gated: false },
  { name: 'Phikon-v2', hub: 'owkin/phikon-v2', family: 'hf-dinov2', architecture: 'HF Dinov2 ViT-L/16', shape: shape(1024, 24, 16), pooling: 'cls', parameters: 303.4e6, tile: '224 px @ 20x', licence: 'Owkin non-commercial', gated: false },
  { name: 'UNI', hub: 'MahmoodLab/UNI', family: 'timm', architecture: 'timm ViT-L/16, LayerScale', shape: shape(1024, 24, 16), pooling: 'cls', parameters: 303.4e6, tile: '256 px @ 20x, resized to 224', licence: 'CC-BY-NC-ND 4.0', gated: true },
  { name: 'UNI2-h', hub: 'MahmoodLab/UNI2-h', family: 'timm', architecture: 'timm ViT-H/14, 8 registers, SwiGLU', shape: shape(1536, 24, 14, 8, true), pooling: 'cls', parameters: 681.4e6, tile: '256 px @ 20x, resized to 224', licence: 'CC-BY-NC-ND 4.0', gated: true },
  { name: 'Virchow2', hub: 'paige-ai/Virchow2', family: 'timm', architecture: 'timm ViT-H/14, 4 registers, SwiGLU', shape: shape(1280, 32, 14, 4, true), pooling: 'cls+mean', parameters: 631.2e6, tile: '224 px @ 20x (mixed 5-40x in training)', licence: 'CC-BY-NC-ND 4.0', gated: true },
  { name: 'H-optimus-0', hub: 'bioptimus/H-optimus-0', family: 'timm', architecture: 'timm ViT-g/14, 4 registers, SwiGLU', shape: shape(1536, 40, 14, 4, true), pooling: 'cls', parameters: 1.13e9, tile: '224 px @ 20x', licence: 'Apache-2.0', gated: false },
  { name: 'Prov-GigaPath', hub: 'prov-gigapath/prov-gigapath', family: 'timm', architecture: 'timm ViT-g/16, SwiGLU', shape: shape(1536, 40, 16, 0, true), pooling: 'cls', parameters: 1.13e9, tile: '256 px @ 20x, centre crop 224', licence: 'Apache-2.0 with conditions', gated: true },
  { name: 'Lunit DINO ViT-S/8', hub: 'lunit-io/benchmark-ssl-pathology (release)', family: 'timm', architecture: 'timm ViT-S/8', shape: shape(384, 12, 8), pooling: 'cls', parameters: 21.7e6, tile: '224 px @ 20x and 40x', licence: 'Lunit non-commercial', gated: false },
  { name: 'Lunit DINO ViT-S/16', hub: 'lunit-io/benchmark-ssl-pathology (release)', family: 'timm', architecture: 'timm ViT-S/16', shape: shape(384, 12, 16), pooling: 'cls', parameters: 21.7e6, tile: '224 px @ 20x and 40x', licence: 'Lunit non-commercial', gated: false },
  { name: 'Kaiko ViT-S/16', hub: 'kaiko-ai/towards_large_pathology_fms', family: 'timm', architecture: 'timm ViT-S/16', shape: shape(384, 12, 16), pooling: 'cls', parameters: 21.7e6, tile: '224 px, mixed magnifications', licence: 'Kaiko non-commercial share-alike', gated: false },
  { name: 'Kaiko ViT-B/16', hub: 'kaiko-ai/towards_large_pathology_fms', family: 'timm', architecture: 'timm ViT-B/16', shape: shape(768, 12, 16), pooling: 'cls', parameters: 85.8e6, tile: '224 px, mixed magnifications', licence: 'Kaiko non-commercial share-alike', gated: false },
  { name: 'Kaiko ViT-L/14', hub: 'kaiko-ai/towards_large_pathology_fms', family: 'timm', architecture: 'timm ViT-L/14, 4 registers, built at 518 px (resample to 224)', shape: shape(1024, 24, 14, 4), pooling: 'cls', parameters: 304e6, tile: '224 px, mixed magnifications', licence: 'Kaiko non-commercial share-alike', gated: false },
  { name: 'Hibou-B', hub: 'histai/hibou-b', family: 'hf-dinov2', architecture: 'HF Dinov2WithRegisters ViT-B/14, 4 registers, SwiGLU', shape: shape(768, 12, 14, 4, true), pooling: 'cls', parameters: 85.7e6, tile: '224 px @ 20x', licence: 'Apache-2.0', gated: true },
  { name: 'Hibou-L', hub: 'histai/hibou-L', family: 'hf-dinov2', architecture: 'HF Dinov2WithRegisters ViT-L/14, 4 registers, SwiGLU', shape: shape(1024, 24, 14, 4, true), pooling: 'cls', parameters: 303.7e6, tile: '224 px @ 20x', licence: 'Apache-2.0', gated: true },
  {
    name: 'CONCH (vision tower)', hub: 'MahmoodLab/CONCH', family: 'timm', architecture: 'open_clip CoCa, timm ViT-B/16 at 448 px + attentional pooler', shape: shape(768, 12, 16), pooling: 'cls', parameters: 90e6,
    tile: '512 px @ 20x, resized to 448', licence: 'CC-BY-NC-ND 4.0', gated: true, unsupported: 'its 512-value embedding comes from an attentional pooler (not implemented), not from [CLS]',
  },
];

/** Models at or above this many parameters are refused. */
export const MAX_BROWSER_PARAMETERS = 600e6;

/**
 * Memory a model needs in a tab on wasm, per parameter: the float32 tensor (4 B; tfjs has no fp16 tensors; the fp16
 * file is streamed, never held) and the packed copy tfjs-backend-wasm's XNNPACK operators keep of every dense kernel
 * (4 B; the dense kernels are nearly all the parameters). ViT-L/16 measured a 2,278 MiB heap for 303M parameters in
 * Chromium and Node (7.9 B each; bench/results/vit-browser.md); buffer-plan.ts estimates a given config in full.
 */
export function estimatedBrowserBytes(parameters: number): number {
  return parameters * 8;
}

/** Throws, with the reason and the memory it would need, when `model` cannot run in a browser. */
export function browserFit(model: Pick<CatalogueModel, 'name' | 'parameters' | 'unsupported'>): void {
  if (model.unsupported) throw new Error(`${model.name}: not supported: ${model.unsupported}`);
  if (model.parameters >= MAX_BROWSER_PARAMETERS) {
    const gib = (estimatedBrowserBytes(model.parameters) / 2 ** 30).toFixed(1);
    throw new Error(
      `${model.name}: ${(model.parameters / 1e6).toFixed(0)}M parameters is too large for a browser tab: it would need about ${gib} GiB ` +
        '(float32 weights plus the packed copy tfjs-wasm keeps of each dense kernel), beyond the 4 GiB wasm heap',
    );
  }
}

/** Parameters of a canonical config (patch embedding, tokens, blocks, final norm). */
export function parameterCount(config: VitConfig): number {
  const d = config.hidden_size;
  const grid = (config.image_size / config.patch_size) ** 2;
  const mlpIn = (config.use_swiglu_ffn ? 2 : 1) * config.intermediate_size;
  const block = 4 * d * d + 4 * d + mlpIn * d + mlpIn + config.intermediate_size * d + d + 4 * d + (config.layer_scale ? 2 * d : 0);
  // [CLS] token, its position row, the patch rows, the registers.
  return d * 3 * config.patch_size ** 2 + d + (2 + grid + config.num_register_tokens) * d + config.num_hidden_layers * block + 2 * d;
}

export interface CatalogueMatch {
  /** The model, or "A or B" when several catalogue models share these shapes and this family. */
  name: string;
  models: CatalogueModel[];
  /** Their pooling when they agree on it; undefined otherwise (the converter then keeps its default and says so). */
  pooling: Pooling | undefined;
}

/**
 * The catalogue models a converted config can be: same shapes and, when given, the same checkpoint family (a timm
 * ViT-B/16 is not Phikon, an HF ViTModel). Shapes alone cannot tell some apart (Lunit DINO and Kaiko ViT-S/16, Kaiko
 * ViT-B/16 and CONCH's tower): then every candidate is named, never the first one guessed.
 */
export function recogniseCatalogueModel(config: VitConfig, family?: CatalogueFamily): CatalogueMatch | undefined {
  const models = CATALOGUE.filter(({ shape: s, family: f }) => (family === undefined || f === family) && (Object.keys(s) as (keyof typeof s)[]).every((k) => s[k] === config[k]));
  if (models.length === 0) return undefined;
  const poolings = new Set(models.map((m) => m.pooling));
  return { name: models.map((m) => m.name).join(' or '), models, pooling: poolings.size === 1 ? models[0]!.pooling : undefined };
}

/** Values per token a catalogue model gives. */
export function catalogueTokenWidth(model: CatalogueModel): number {
  return tokenWidth({ hidden_size: model.shape.hidden_size, pooling: model.pooling });
}
