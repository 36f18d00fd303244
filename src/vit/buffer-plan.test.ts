// Planning a ViT against a device: WebGPU buffer limits (split kernels, fewer images per pass, or the tensor that
// cannot fit named), the memory estimate against the wasm heaps measured here, and the allowance message.
import { describe, expect, it } from 'vitest';
import { checkMemory, DeviceLimitError, estimateModelMemory, memoryAllowance, planBuffers, WASM_HEAP_MAX_BYTES } from './buffer-plan.ts';
import { VIT_PRESETS } from './config.ts';
import { columnBlocks } from './model-params.ts';

const MiB = 2 ** 20;
const L16 = VIT_PRESETS['vit-l16'];

describe('WebGPU buffer plan', () => {
  it('needs nothing split for ViT-L/16 at batch 8 under the default 128 MiB binding limit', () => {
    const plan = planBuffers(L16, 'fused', 128 * MiB, 'maxStorageBufferBindingSize', 8);
    expect(plan).toMatchObject({ maxBatch: 8, split: [] });
    // The MLP hidden layer at batch 8: 8 x 197 x 4096 floats.
    expect(plan.largestBytes).toBe(8 * 197 * 4096 * 4);
  });

  it('splits ViT-L/16 kernels into column blocks and lowers the batch under a 4 MiB limit', () => {
    const plan = planBuffers(L16, 'fused', 4 * MiB, 'test limit', 8);
    expect(plan.split.map((s) => [s.tensor, s.blocks])).toEqual([
      ['encoder.layer.*.intermediate.dense.weight', 4],
      ['encoder.layer.*.output.dense.weight', 4],
      ['encoder.layer.*.attention.attention.{query,key,value} (fused)', 3],
    ]);
    expect(plan.maxBatch).toBe(1); // one image's MLP hidden layer is 3.08 MiB
    expect(plan.largestBytes).toBeLessThanOrEqual(4 * MiB);
    // The assembler cuts the same blocks: 4096 columns of a 1024-wide kernel under 4 MiB.
    expect(columnBlocks(4096, Math.floor((4 * MiB) / (4 * 1024)))).toEqual([
      [0, 1024],
      [1024, 1024],
      [2048, 1024],
      [3072, 1024],
    ]);
  });

  it('names the tensor that cannot fit', () => {
    expect(() => planBuffers(L16, 'fused', Math.round(3.05 * MiB), 'maxStorageBufferBindingSize of this adapter', 8)).toThrow(
      new DeviceLimitError('MLP hidden layer [197, 4096] (3.08 MiB) does not fit the maxStorageBufferBindingSize of this adapter of 3.05 MiB even for one image'),
    );
    expect(() => planBuffers(L16, 'fused', 512 * 1024, 'limit', 1)).toThrow('embeddings.patch_embeddings.projection.weight [16, 16, 3, 1024] (3 MiB) does not fit the limit of 512 KiB and cannot be split');
  });

  it('keeps blocks a multiple of 4 columns when that costs no extra block', () => {
    expect(columnBlocks(768, 213)).toEqual([
      [0, 192],
      [192, 192],
      [384, 192],
      [576, 192],
    ]);
    expect(columnBlocks(10, 3)).toEqual([
      [0, 3],
      [3, 3],
      [6, 3],
      [9, 1],
    ]);
    expect(columnBlocks(100, 100)).toEqual([[0, 100]]);
  });
});

describe('memory estimate', () => {
  it('is near the wasm heap measured after loading and one forward pass (Node, tfjs-wasm 4.22)', () => {
    // Heap after load + first forward, batch 8 (perHead runs one image at a time): S 207 MiB, B 675 MiB, L 2278 MiB.
    for (const [preset, heapMiB] of [
      ['vit-s16', 207],
      ['vit-b16', 675],
      ['vit-l16', 2278],
    ] as const) {
      const estimate = estimateModelMemory(VIT_PRESETS[preset], 'perHead', 8);
      expect(estimate.totalBytes / MiB).toBeGreaterThan(heapMiB * 0.95);
      expect(estimate.totalBytes / MiB).toBeLessThan(heapMiB * 1.15);
    }
    expect(estimateModelMemory(L16, 'perHead', 8).totalBytes).toBeLessThan(WASM_HEAP_MAX_BYTES);
  });

  it('refuses with what the model needs and what the browser allows', () => {
    const estimate = estimateModelMemory(L16, 'perHead', 8);
    expect(memoryAllowance('wasm', 8, undefined)).toEqual({ bytes: WASM_HEAP_MAX_BYTES, source: 'the WebAssembly heap limit' });
    expect(memoryAllowance('wasm', 2, undefined)).toEqual({ bytes: 2 * 2 ** 30, source: 'the device memory this browser reports' });
    expect(memoryAllowance('webgpu', undefined, undefined)).toBeNull();
    expect(() => checkMemory(estimate, memoryAllowance('wasm', 2, undefined), 'ViT-L/16')).toThrow(
      /^ViT-L\/16 cannot be held here: it needs about 2\.40 GiB \(1\.13 GiB of float32 weights for 303\.3M parameters, 1\.27 GiB to load and run\), this browser allows 2 GiB \(the device memory this browser reports\)$/,
    );
    expect(() => checkMemory(estimate, memoryAllowance('wasm', 8, undefined), 'ViT-L/16')).not.toThrow();
  });
});
