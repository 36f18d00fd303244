// Bench suite `vit`: ms per image at batch 1 and 8 for the tiny, paper and ViT-B/16 presets, in
// Node on tfjs-backend-wasm (the same VitModel the browser worker runs) and in PyTorch on this
// machine's CPU (the hand-written reference forward of scripts/vit-fixtures.py, float32), with
// the ratio tfjs / PyTorch; plus a per-kernel profile of one ViT-B/16 forward (where the time goes).
// Both sides run on one thread and also report CPU time per image, because this 2-core machine is
// shared: wall times swing with other load, CPU time much less, so the ratio uses CPU time.
// Browser backends are measured by the app's own bench. Run alone: node bench/vit.ts

import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mulberry32 } from '../src/common/mulberry32.ts';
import { VIT_PRESETS } from '../src/vit/config.ts';
import type { VitPresetName } from '../src/vit/config.ts';
import { VitModel } from '../src/vit/model.ts';
import { useNodeWasmBackend } from '../src/vit/node-io.ts';
import { randomVitWeights } from '../src/vit/weights.ts';

const BATCHES = [1, 8] as const;
/** Timed batches per measurement (after one warm-up batch): more for the fast models. */
const REPEATS: Record<VitPresetName, number> = { tiny: 20, 'mini-s14-registers': 20, paper: 2, 'vit-b16': 2 };
const PYTHON = '/usr/bin/python3';

interface TimingRow {
  suite: 'vit';
  model: VitPresetName;
  runtime: string;
  batch: number;
  msPerImage: number;
  /** Process CPU time per image (user + system, all threads). */
  cpuMsPerImage: number;
  /** tfjs cpuMsPerImage / PyTorch (1 thread) cpuMsPerImage for the same model and batch. */
  ratioToPytorch?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function randomPixels(count: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count }, () => 2 * next() - 1);
}

async function timeTfjs(name: VitPresetName): Promise<TimingRow[]> {
  const config = VIT_PRESETS[name];
  const model = VitModel.create(config, randomVitWeights(config, 1));
  const imageValues = 3 * config.image_size ** 2;
  const rows: TimingRow[] = [];
  try {
    await model.embedBatch(randomPixels(imageValues, 0), 1); // warm-up: kernels, wasm heap growth
    for (const batch of BATCHES) {
      const pixels = randomPixels(batch * imageValues, batch);
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < REPEATS[name]; r++) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        await model.embedBatch(pixels, batch);
        const { user, system } = process.cpuUsage(cpuStarted);
        wall.push((performance.now() - started) / batch);
        cpu.push((user + system) / 1000 / batch);
      }
      rows.push({ suite: 'vit', model: name, runtime: 'node tfjs-wasm, 1 thread', batch, msPerImage: median(wall), cpuMsPerImage: median(cpu) });
    }
  } finally {
    model.dispose();
  }
  return rows;
}

async function timePytorch(name: VitPresetName, threads: number): Promise<TimingRow[]> {
  const args = ['scripts/vit-fixtures.py', 'bench', '--config', JSON.stringify(VIT_PRESETS[name]), '--repeats', String(REPEATS[name])];
  for (const batch of BATCHES) args.push('--batch', String(batch));
  args.push('--threads', String(threads));
  const { stdout } = await promisify(execFile)(PYTHON, args, { cwd: new URL('..', import.meta.url).pathname });
  const result = JSON.parse(stdout) as { torch: string; threads: number; rows: { batch: number; msPerImage: number; cpuMsPerImage: number }[] };
  return result.rows.map((row) => ({
    suite: 'vit',
    model: name,
    runtime: `pytorch ${result.torch} cpu, ${result.threads} thread${result.threads > 1 ? 's' : ''}`,
    batch: row.batch,
    msPerImage: row.msPerImage,
    cpuMsPerImage: row.cpuMsPerImage,
  }));
}

/** Milliseconds per tfjs kernel in one ViT-B/16 batch-1 forward, largest first. */
async function profileB16(): Promise<object[]> {
  const config = VIT_PRESETS['vit-b16'];
  const model = VitModel.create(config, randomVitWeights(config, 1));
  try {
    const pixels = randomPixels(3 * config.image_size ** 2, 0);
    await model.embedBatch(pixels, 1);
    const profile = await tf.profile(() => model.embedBatch(pixels, 1));
    const byKernel = new Map<string, number>();
    // tf.profile lists both ops (name ending in __op) and the kernels they run: count kernels only.
    for (const kernel of profile.kernels.filter((k) => !k.name.endsWith('__op'))) {
      byKernel.set(kernel.name, (byKernel.get(kernel.name) ?? 0) + (typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0));
    }
    const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
    return [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([kernel, ms]) => ({ suite: 'vit', model: 'vit-b16', runtime: 'node tfjs-wasm kernel profile', kernel, ms, share: ms / total }));
  } finally {
    model.dispose();
  }
}

export async function run(): Promise<{ rows: object[] }> {
  await useNodeWasmBackend();
  const rows: TimingRow[] = [];
  for (const name of ['tiny', 'paper', 'vit-b16'] as const) {
    const tfjsRows = await timeTfjs(name);
    const torchRows = await timePytorch(name, 1); // Node's tfjs-wasm runs on one thread too
    for (const row of tfjsRows) {
      const reference = torchRows.find((t) => t.batch === row.batch);
      if (reference) row.ratioToPytorch = row.cpuMsPerImage / reference.cpuMsPerImage;
    }
    rows.push(...tfjsRows, ...torchRows);
  }
  rows.push(...(await timePytorch('vit-b16', 2)));
  return { rows: [...rows, ...(await profileB16())] };
}

if (import.meta.main) {
  const { rows } = await run();
  console.table(rows);
}
