// Checks the converter and the tfjs ViT against the real libraries (transformers Dinov2Model /
// Dinov2WithRegistersModel, timm VisionTransformer): tiny random-weight checkpoints saved as those
// libraries save them, with their float64 tokens (src/vit/fixtures/families/, regenerated with
// `/work/venv-ref/bin/python scripts/fixtures/vit-families.py`).

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserFit, CATALOGUE, catalogueTokenWidth, parameterCount, recogniseCatalogueModel } from './catalogue.ts';
import type { CatalogueModel } from './catalogue.ts';
import { convertCheckpoint } from './checkpoint.ts';
import { imageProcessorJson, tokenWidth, VIT_PRESETS } from './config.ts';
import type { Pooling } from './config.ts';
import { VitModel } from './model.ts';
import { readImageFile, readModelDir, useNodeWasmBackend, writeModelDir } from './node-io.ts';
import { resizeAndCrop, resizeLikePillow } from './preprocess.ts';
import { readSafetensors } from './safetensors.ts';
import { buildModelFolder, vitConfigJson } from './weights.ts';
import { mulberry32 } from '../common/mulberry32.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'src/vit/fixtures');
const FAMILIES = join(FIXTURES, 'families');

interface Case {
  folder: string;
  image_size: number;
  pooling: Pooling;
  tokens: number[][];
}
interface Expected {
  input: { seed: number; batch: number };
  cases: Case[];
  preprocessing: { image: string; file: string; edge: number; resample: 'bicubic' | 'bilinear' }[];
}
const expected = JSON.parse(await readFile(join(FAMILIES, 'expected.json'), 'utf8')) as Expected;
const scratch = await mkdtemp(join(tmpdir(), 'vit-families-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
beforeAll(async () => {
  await useNodeWasmBackend();
});

/** The inputs the Python script fed the libraries: 4 * mulberry32(seed) - 2, N x 3 x S x S. */
function inputPixels(size: number): Float32Array {
  const next = mulberry32(expected.input.seed);
  return Float32Array.from({ length: expected.input.batch * 3 * size * size }, () => 4 * next() - 2);
}

async function readFolder(folder: string) {
  const dir = join(FAMILIES, folder);
  const configJson = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as unknown;
  const processorJson = await readFile(join(dir, 'preprocessor_config.json'), 'utf8').then(JSON.parse, () => undefined) as unknown;
  const { tensors } = readSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors'))));
  return { configJson, processorJson, tensors };
}

function maxAbsDiff(actual: Float32Array[], want: number[][]): number {
  expect(actual.map((t) => t.length)).toEqual(want.map((t) => t.length));
  return Math.max(...actual.flatMap((token, i) => [...token].map((v, j) => Math.abs(v - (want[i]?.[j] as number)))));
}

async function tokensOf(folder: Case, dtype: 'F32' | 'F16' = 'F32'): Promise<{ tokens: Float32Array[]; family: string; width: number; resampledFrom?: number }> {
  const { configJson, processorJson, tensors } = await readFolder(folder.folder);
  const converted = convertCheckpoint(configJson, processorJson, tensors, { pooling: folder.pooling, imageSize: folder.image_size });
  // Through a written and re-read model folder, so the manifest, config.json and storage dtype are exercised too.
  const dir = join(scratch, `${folder.folder}-${dtype}`);
  await writeModelDir(dir, await buildModelFolder(vitConfigJson(converted.config), imageProcessorJson(converted.processor), converted.weights, dtype));
  const loaded = await readModelDir(dir);
  const model = VitModel.create(loaded.config, loaded.weights);
  try {
    const tokens = await model.embedBatch(inputPixels(folder.image_size), expected.input.batch);
    return { tokens, family: converted.family, width: loaded.tokenWidth, ...(converted.resampledFrom ? { resampledFrom: converted.resampledFrom } : {}) };
  } finally {
    model.dispose();
  }
}

const byName = (name: string) => expected.cases.find((c) => c.folder === name) as Case;

describe('agreement with transformers and timm (random weights, fp32 storage: max abs diff <= 1e-3)', () => {
  it.each([
    ['hf-dinov2', 'hf-dinov2'],
    ['hf-dinov2-swiglu', 'hf-dinov2'],
    ['hf-dinov2-registers', 'hf-dinov2'],
    ['timm-layerscale', 'timm'],
    ['timm-registers-swiglu', 'timm'],
    ['timm-resampled', 'timm'],
  ])('%s', async (name, family) => {
    const want = byName(name);
    const result = await tokensOf(want);
    expect(result.family).toBe(family);
    expect(result.width).toBe(want.tokens[0]?.length);
    if (name === 'timm-resampled') expect(result.resampledFrom).toBe(6);
    const diff = maxAbsDiff(result.tokens, want.tokens);
    console.log(`${name}: max abs diff ${diff.toExponential(2)} over ${result.tokens.length} x ${result.width}`);
    expect(diff).toBeLessThanOrEqual(1e-3);
  });

  it('fp16 storage stays within 2e-2 of the library (weights rounded to 11 significant bits)', async () => {
    const want = byName('timm-registers-swiglu');
    const diff = maxAbsDiff((await tokensOf(want, 'F16')).tokens, want.tokens);
    console.log(`timm-registers-swiglu fp16: max abs diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(2e-2);
  });

  it('a wrong pooling or a dropped register token is visible (the comparison can fail)', async () => {
    const want = byName('timm-registers-swiglu');
    const cls = await tokensOf({ ...want, pooling: 'cls' });
    expect(cls.width).toBe(32);
    const clsWant = want.tokens.map((t) => t.slice(0, 32));
    expect(maxAbsDiff(cls.tokens, clsWant)).toBeLessThanOrEqual(1e-3);
    const mean = await tokensOf({ ...want, pooling: 'mean' });
    expect(maxAbsDiff(mean.tokens, want.tokens.map((t) => t.slice(32)))).toBeLessThanOrEqual(1e-3);
    // Without its registers the model still converts (as a plain Dinov2) but its tokens move far.
    const registers = byName('hf-dinov2-registers');
    const { configJson, processorJson, tensors } = await readFolder(registers.folder);
    tensors.delete('embeddings.register_tokens');
    const plain = convertCheckpoint(configJson, processorJson, tensors);
    expect(plain.config.num_register_tokens).toBe(0);
    const model = VitModel.create(plain.config, plain.weights);
    const tokens = await model.embedBatch(inputPixels(registers.image_size), expected.input.batch);
    model.dispose();
    expect(maxAbsDiff(tokens, registers.tokens)).toBeGreaterThan(1e-2);
  });
});

describe('convert-weights CLI', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) => run(process.execPath, [join(ROOT, 'scripts/convert-weights.ts'), ...args]);

  it('converts a timm folder with --pooling, writing the pooling and token width into the manifest', async () => {
    const out = join(scratch, 'cli-timm');
    const { stdout } = await cli('--from', join(FAMILIES, 'timm-registers-swiglu'), '--out', out, '--pooling', 'cls+mean', '--dtype', 'f16');
    expect(stdout).toMatch(/timm, .* pooling cls\+mean, token width 64/);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ dtype: 'F16', pooling: 'cls+mean', token_width: 64 });
    const loaded = await readModelDir(out);
    expect(loaded.config).toMatchObject({ num_register_tokens: 2, use_swiglu_ffn: true, layer_scale: true, layer_norm_eps: 1e-6 });
    expect(tokenWidth(loaded.config)).toBe(64);
    // timm pretrained_cfg: bicubic, crop_pct 0.9 -> shorter side floor(32 / 0.9) = 35, centre crop 32.
    expect(loaded.processor).toMatchObject({ size: 32, resample: 'bicubic', shortest_edge: 35, image_mean: [0.5, 0.5, 0.5] });
  });

  it('refuses a checkpoint too large for a browser tab from its header, before reading its gigabytes', async () => {
    // A ViT-H-sized tensor in a sparse file: the header is real, the 1.4 GB of data are a hole on disk.
    const dir = join(scratch, 'huge');
    const header = new TextEncoder().encode(JSON.stringify({ 'blocks.0.mlp.fc1.weight': { dtype: 'F16', shape: [700_000, 1000], data_offsets: [0, 1.4e9] } }));
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(header.byteLength), true);
    await writeModelDir(dir, new Map([['config.json', new TextEncoder().encode('{"architecture":"vit_huge_patch14_224"}')], ['model.safetensors', new Uint8Array([...prefix, ...header])]]));
    await truncate(join(dir, 'model.safetensors'), 8 + header.byteLength + 1.4e9);
    const failure = await cli('--from', dir, '--out', join(scratch, 'never')).then(() => '', (error: { stderr: string }) => error.stderr);
    expect(failure).toMatch(/huge \(its safetensors headers\): 700M parameters is too large for a browser tab: it would need about 5\.2 GiB/);
  });

  it('refuses PyTorch pickles with the command that converts them, and bad options', async () => {
    const dir = join(scratch, 'pickle');
    await writeModelDir(dir, new Map([['config.json', new TextEncoder().encode('{"architecture":"vit_base_patch16_224"}')], ['pytorch_model.bin', new Uint8Array(8)]]));
    const failure = await cli('--from', dir, '--out', join(scratch, 'never')).then(() => undefined, (error: { stderr: string }) => error.stderr);
    expect(failure).toMatch(/only PyTorch pickle weights \(pytorch_model\.bin\).*python -c "import torch, safetensors.torch as st;.*weights_only=True/);
    const badPooling = await cli('--from', dir, '--out', join(scratch, 'never'), '--pooling', 'max').then(() => '', (error: { stderr: string }) => error.stderr);
    expect(badPooling).toMatch(/--pooling max: expected cls, cls\+mean, mean/);
  });
});

describe('preprocessing as BitImageProcessor / timm eval transforms', () => {
  it('resizes the shorter side exactly as Pillow BICUBIC and BILINEAR do', async () => {
    for (const ref of expected.preprocessing) {
      const source = await readImageFile(join(FIXTURES, ref.image));
      const want = PNG.sync.read(await readFile(join(FAMILIES, ref.file)));
      const rgb = resizeLikePillow(source.rgba, source.width, source.height, want.width, want.height, ref.resample);
      const wantRgb = new Uint8Array(want.width * want.height * 3);
      for (let i = 0; i < want.width * want.height; i++) wantRgb.set(want.data.subarray(i * 4, i * 4 + 3), i * 3);
      expect(Buffer.from(rgb).equals(Buffer.from(wantRgb)), ref.file).toBe(true);
      // The centre crop is that resize's middle rows and columns (HF center_crop: corner floor((resized - crop) / 2)).
      const crop = resizeAndCrop(source.rgba, source.width, source.height, {
        size: 32, shortest_edge: ref.edge, resample: ref.resample, rescale_factor: 1 / 255, image_mean: [0, 0, 0], image_std: [1, 1, 1],
      });
      const top = Math.floor((want.height - 32) / 2);
      const left = Math.floor((want.width - 32) / 2);
      expect(crop.subarray(0, 3)).toEqual(wantRgb.subarray(((top * want.width) + left) * 3, ((top * want.width) + left) * 3 + 3));
      const last = ((top + 31) * want.width + left + 31) * 3;
      expect(crop.subarray(crop.length - 3)).toEqual(wantRgb.subarray(last, last + 3));
    }
  });
});

describe('catalogue', () => {
  it('recognises a model by its shapes, fills its pooling, and refuses models of 600M parameters or more', () => {
    const virchow2 = { ...VIT_PRESETS['vit-s14-registers'], hidden_size: 1280, num_hidden_layers: 32, num_attention_heads: 16, intermediate_size: 3416, image_size: 224 };
    expect(recogniseCatalogueModel(virchow2)?.name).toBe('Virchow2');
    expect(parameterCount(virchow2)).toBeGreaterThan(600e6);
    const entry = CATALOGUE.find((m) => m.name === 'Virchow2') as CatalogueModel;
    expect(catalogueTokenWidth(entry)).toBe(2560);
    expect(() => browserFit(entry)).toThrow(/Virchow2: 631M parameters is too large for a browser tab: it would need about 4\.7 GiB/);
    expect(() => browserFit(CATALOGUE.find((m) => m.name.startsWith('CONCH')) as CatalogueModel)).toThrow(/attentional pooler/);
    expect(() => browserFit(CATALOGUE.find((m) => m.name === 'Phikon') as CatalogueModel)).not.toThrow();
    // Shapes and the checkpoint family together: a timm ViT-L/16 is UNI, an HF Dinov2 one Phikon-v2; where even both
    // cannot tell models apart, every candidate is named.
    const vitL16 = { ...VIT_PRESETS['vit-b16'], hidden_size: 1024, num_hidden_layers: 24 };
    expect(recogniseCatalogueModel(vitL16, 'timm')?.name).toBe('UNI');
    expect(recogniseCatalogueModel(vitL16, 'hf-dinov2')?.name).toBe('Phikon-v2');
    expect(recogniseCatalogueModel(VIT_PRESETS['vit-b16'], 'hf-vit')?.name).toBe('Phikon');
    expect(recogniseCatalogueModel(VIT_PRESETS['vit-b16'], 'timm')).toMatchObject({ name: 'Kaiko ViT-B/16 or CONCH (vision tower)', pooling: 'cls' });
    expect(recogniseCatalogueModel({ ...VIT_PRESETS['vit-b16'], hidden_size: 384 }, 'timm')?.name).toBe('Lunit DINO ViT-S/16 or Kaiko ViT-S/16');
    expect(recogniseCatalogueModel(VIT_PRESETS['vit-b16'], 'hf-dinov2')).toBeUndefined();
    // The canonical count matches timm's for ViT-B/16 (85,798,656 without the head).
    expect(parameterCount(VIT_PRESETS['vit-b16'])).toBe(85798656);
  });
});
