import { describe, expect, it } from 'vitest';
import { numPatches, parseImageProcessorConfig, parseVitConfig, VIT_PRESETS } from './config.ts';

describe('ViT config', () => {
  it('has the three presets of the issue', () => {
    expect(numPatches(VIT_PRESETS['vit-b16'])).toBe(196);
    expect(numPatches(VIT_PRESETS.paper)).toBe(64);
    expect(VIT_PRESETS.paper.hidden_size).toBe(768);
    expect(parseVitConfig({ ...VIT_PRESETS.tiny, model_type: 'vit', id2label: {} })).toEqual(VIT_PRESETS.tiny);
  });

  it('applies HF defaults and rejects what the model cannot run, naming the field', () => {
    const { qkv_bias: _q, layer_norm_eps: _e, hidden_act: _a, num_channels: _c, ...sizes } = VIT_PRESETS['vit-b16'];
    expect(parseVitConfig(sizes)).toEqual(VIT_PRESETS['vit-b16']);
    expect(() => parseVitConfig({ ...sizes, hidden_size: undefined })).toThrow('config.json: missing field "hidden_size"');
    expect(() => parseVitConfig({ ...sizes, patch_size: 15 })).toThrow(/image_size 224 is not divisible by patch_size 15/);
    expect(() => parseVitConfig({ ...sizes, hidden_act: 'gelu_new' })).toThrow(/hidden_act "gelu_new" is not supported/);
    expect(() => parseVitConfig({ ...sizes, model_type: 'deit' })).toThrow(/model_type is "deit"/);
  });

  it('reads both preprocessor size forms and folds the do_* switches', () => {
    expect(parseImageProcessorConfig({ size: 224 })).toEqual({ size: 224, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], rescale_factor: 1 / 255 });
    expect(parseImageProcessorConfig({ size: { height: 200, width: 200 }, do_normalize: false, do_rescale: false })).toEqual({
      size: 200,
      image_mean: [0, 0, 0],
      image_std: [1, 1, 1],
      rescale_factor: 1,
    });
    expect(() => parseImageProcessorConfig({ size: { height: 200, width: 100 } })).toThrow(/size must be square/);
    expect(() => parseImageProcessorConfig({ image_mean: [0.5, 0.5] })).toThrow(/"image_mean" must be an array of 3 numbers/);
  });
});
