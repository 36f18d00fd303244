import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { imageProcessorJson, VIT_PRESETS } from './config.ts';
import type { VitConfig } from './config.ts';
import { readSafetensors } from './safetensors.ts';
import {
  buildModelFolder,
  canonicalVitWeights,
  expectedVitTensors,
  loadModelFolder,
  randomVitWeights,
  vitConfigJson,
} from './weights.ts';

const small: VitConfig = { ...VIT_PRESETS.tiny, hidden_size: 16, num_attention_heads: 2, intermediate_size: 32, num_hidden_layers: 1 };
const processor = imageProcessorJson({ size: small.image_size, rescale_factor: 1 / 255, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] });

function asCheckpoint(weights: Map<string, Float32Array>, prefix: string) {
  const shapes = new Map(expectedVitTensors(small).map((t) => [t.name, t.shape]));
  return new Map([...weights].map(([name, data]) => [prefix + name, { shape: shapes.get(name) as number[], data }]));
}

describe('ViT weights', () => {
  it('lists the HF ViTModel tensors with their shapes', () => {
    const b16 = expectedVitTensors(VIT_PRESETS['vit-b16']);
    const count = b16.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(count).toBe(85_798_656); // ViT-B/16 without pooler: 86.4M minus the 0.59M pooler
    expect(b16.find((t) => t.name === 'embeddings.patch_embeddings.projection.weight')?.shape).toEqual([768, 3, 16, 16]);
    expect(expectedVitTensors({ ...small, qkv_bias: false }).some((t) => t.name.endsWith('query.bias'))).toBe(false);
  });

  it('random weights are deterministic per seed', () => {
    const a = randomVitWeights(small, 7).get('layernorm.weight');
    expect(a).toEqual(randomVitWeights(small, 7).get('layernorm.weight'));
    expect(a).not.toEqual(randomVitWeights(small, 8).get('layernorm.weight'));
  });

  it('accepts the "vit." prefix, drops heads, and names unknown, missing and misshapen tensors', () => {
    const weights = randomVitWeights(small, 1);
    const classifier = asCheckpoint(weights, 'vit.');
    classifier.set('classifier.weight', { shape: [10, 16], data: new Float32Array(160) });
    const { weights: canonical, dropped } = canonicalVitWeights(small, classifier);
    expect(dropped).toEqual(['classifier.weight']);
    expect([...canonical.keys()].sort()).toEqual([...weights.keys()].sort());

    const unknown = asCheckpoint(weights, '');
    unknown.set('encoder.layer.5.output.dense.weight', { shape: [16, 32], data: new Float32Array(512) });
    expect(() => canonicalVitWeights(small, unknown)).toThrow('unknown tensor "encoder.layer.5.output.dense.weight"');

    const missing = asCheckpoint(weights, '');
    missing.delete('encoder.layer.0.attention.attention.key.bias');
    expect(() => canonicalVitWeights(small, missing)).toThrow('missing tensor "encoder.layer.0.attention.attention.key.bias"');

    const misshapen = asCheckpoint(weights, 'vit.');
    misshapen.set('vit.layernorm.bias', { shape: [17], data: new Float32Array(17) });
    expect(() => canonicalVitWeights(small, misshapen)).toThrow('tensor "vit.layernorm.bias" has shape [17], expected [16]');
  });

  it('round-trips a model folder and rejects a checksum mismatch naming the file', async () => {
    const weights = randomVitWeights(small, 3);
    const files = await buildModelFolder(vitConfigJson(small), processor, weights, 'F32');
    const fetchFile = async (name: string) => {
      const bytes = files.get(name);
      if (!bytes) throw new Error('no such file');
      return bytes;
    };
    const loaded = await loadModelFolder(fetchFile);
    expect(loaded.config).toEqual(small);
    expect(loaded.weights.get('encoder.layer.0.output.dense.weight')).toEqual(weights.get('encoder.layer.0.output.dense.weight'));
    expect(loaded.modelSha256).toMatch(/^[0-9a-f]{64}$/);

    const tampered = (files.get('model.safetensors') as Uint8Array).slice();
    tampered[tampered.length - 1] = (tampered.at(-1) as number) ^ 1;
    await expect(loadModelFolder(async (name) => (name === 'model.safetensors' ? tampered : fetchFile(name)))).rejects.toThrow(
      /checksum mismatch for model.safetensors: manifest.json says [0-9a-f]{64}, file is [0-9a-f]{64}/,
    );
    await expect(loadModelFolder(async (name) => (name === 'config.json' ? Promise.reject(new Error('404')) : fetchFile(name)))).rejects.toThrow(
      'model folder: cannot read config.json: 404',
    );
  });

  it('ships the tiny demo model as fp16 under 2 MB', async () => {
    const folder = new URL('../../public/models/tiny/', import.meta.url);
    const loaded = await loadModelFolder(async (name) => new Uint8Array(await readFile(new URL(name, folder))));
    expect(loaded.config).toEqual(VIT_PRESETS.tiny);
    const file = new Uint8Array(await readFile(new URL('model.safetensors', folder)));
    expect(file.byteLength).toBeLessThan(2_000_000);
    expect([...readSafetensors(file).tensors.values()].every((t) => t.dtype === 'F16')).toBe(true);
  });
});
