// The WebGPU device behind tfjs-backend-webgpu, for what tfjs does not do: the buffer limit the model must plan for
// (tfjs asks the adapter for its largest maxBufferSize and maxStorageBufferBindingSize and then creates buffers
// without checking either), a cap below that limit that the device enforces as a smaller device would (tests, the
// workstation check's "simulate a smaller GPU"), the largest buffer actually created, and error scopes that turn an
// out-of-memory or refused buffer during loading into an error instead of silently wrong tokens.

import * as tf from '@tensorflow/tfjs';
import { DeviceLimitError } from './buffer-plan.ts';
import { formatBytes } from '../common/format-bytes.ts';

interface GpuErrorLike {
  message: string;
}

interface GpuDeviceLike {
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  createBuffer(descriptor: { size: number }): unknown;
  pushErrorScope(filter: 'out-of-memory' | 'validation'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
}

interface Watch {
  capBytes: number | undefined;
  largestBytes: number;
}

const watches = new WeakMap<GpuDeviceLike, Watch>();

function activeDevice(): GpuDeviceLike | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  return (tf.backend() as unknown as { device?: GpuDeviceLike }).device;
}

export interface WebGpuBufferLimit {
  limitBytes: number;
  /** What the limit is, for messages ("maxStorageBufferBindingSize of this adapter"). */
  limit: string;
  device: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

/** The per-buffer limit on the active WebGPU device: the smaller of its two buffer limits, or `capBytes` when lower. */
export function webGpuBufferLimit(capBytes?: number): WebGpuBufferLimit {
  const device = activeDevice();
  if (!device) throw new Error('webGpuBufferLimit: tfjs is not on webgpu');
  const { maxBufferSize, maxStorageBufferBindingSize } = device.limits;
  const limits = { maxBufferSize, maxStorageBufferBindingSize };
  if (capBytes !== undefined && capBytes < Math.min(maxBufferSize, maxStorageBufferBindingSize)) {
    return { limitBytes: capBytes, limit: 'WebGPU buffer limit set for this run', device: limits };
  }
  return maxStorageBufferBindingSize <= maxBufferSize
    ? { limitBytes: maxStorageBufferBindingSize, limit: 'maxStorageBufferBindingSize of this adapter', device: limits }
    : { limitBytes: maxBufferSize, limit: 'maxBufferSize of this adapter', device: limits };
}

/**
 * From now on the device refuses (throws) any buffer over `capBytes`, as a device with that limit would, and records
 * the largest buffer tfjs creates. Once per device; a later call changes the cap.
 */
export function watchGpuBuffers(capBytes: number | undefined): void {
  const device = activeDevice();
  if (!device) return;
  const existing = watches.get(device);
  if (existing) {
    existing.capBytes = capBytes;
    return;
  }
  const watch: Watch = { capBytes, largestBytes: 0 };
  watches.set(device, watch);
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor) => {
    if (watch.capBytes !== undefined && descriptor.size > watch.capBytes) {
      throw new DeviceLimitError(`a ${formatBytes(descriptor.size)} GPU buffer exceeds the ${formatBytes(watch.capBytes)} WebGPU buffer limit set for this run`);
    }
    watch.largestBytes = Math.max(watch.largestBytes, descriptor.size);
    return create(descriptor);
  };
}

/** The largest GPU buffer tfjs created since watchGpuBuffers, if it watches. */
export function largestGpuBufferBytes(): number | undefined {
  const device = activeDevice();
  return device ? watches.get(device)?.largestBytes : undefined;
}

/** Opens out-of-memory and validation error scopes on the active device (none elsewhere); `close` throws what they caught. */
export function gpuErrorScopes(): { close(what: string): Promise<void> } {
  const device = activeDevice();
  if (!device) return { close: async () => undefined };
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  return {
    async close(what) {
      const validation = await device.popErrorScope();
      const memory = await device.popErrorScope();
      if (memory) throw new DeviceLimitError(`the GPU ran out of memory ${what}: ${memory.message}`);
      if (validation) throw new DeviceLimitError(`the GPU refused a buffer ${what}: ${validation.message}`);
    },
  };
}
