// Bench suite `vit`: ms per tile (224 px, batch 1) and peak memory for ViT-S/16, ViT-B/16 and ViT-L/16
// with random weights stored as fp16 model folders, in Node on tfjs-backend-wasm (the VitModel the
// browser worker runs, loaded tensor by tensor from the folder) beside PyTorch CPU running timm's
// VisionTransformer (float32) with the same thread count (1: Node's tfjs-wasm runs on one thread).
// Each measurement runs in its own process, so peak RSS is that model's alone. The machine is shared:
// wall times swing with other load, CPU time less, so the ratio uses CPU time. Run alone: node bench/vit.ts

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { mulberry32 } from '../src/common/mulberry32.ts';
import { imageProcessorJson, VIT_PRESETS } from '../src/vit/config.ts';
import type { VitConfig } from '../src/vit/config.ts';
import { VitModel } from '../src/vit/model.ts';
import { readModelDir, useNodeWasmBackend, writeModelDir } from '../src/vit/node-io.ts';
import { buildModelFolder, randomVitWeights, vitConfigJson } from '../src/vit/weights.ts';

const MODELS: { name: string; architecture: string; config: VitConfig; repeats: number }[] = [
  { name: 'vit-s16', architecture: 'vit_small_patch16_224', config: VIT_PRESETS['vit-s16'], repeats: 5 },
  { name: 'vit-b16', architecture: 'vit_base_patch16_224', config: VIT_PRESETS['vit-b16'], repeats: 3 },
  { name: 'vit-l16', architecture: 'vit_large_patch16_224', config: VIT_PRESETS['vit-l16'], repeats: 2 },
];
const PYTHON = '/work/venv-ref/bin/python';
const ROOT = new URL('..', import.meta.url).pathname;
const exec = promisify(execFile);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The fp16 model folder for `model`, written once under the OS temp dir (ViT-L: 607 MB). */
async function folderFor(model: (typeof MODELS)[number]): Promise<string> {
  const dir = join(tmpdir(), 'cipherpath-bench-vit', `${model.name}-f16`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const processor = { size: 224, rescale_factor: 1 / 255, image_mean: [0.5, 0.5, 0.5] as [number, number, number], image_std: [0.5, 0.5, 0.5] as [number, number, number] };
  await writeModelDir(dir, await buildModelFolder(vitConfigJson(model.config), imageProcessorJson(processor), randomVitWeights(model.config, 1), 'F16'));
  return dir;
}

/** Child process: load one folder, time `repeats` batch-1 forwards after a warm-up, report peak RSS. */
async function measureChild(dir: string, repeats: number): Promise<void> {
  await useNodeWasmBackend();
  const started = performance.now();
  const { config, weights } = await readModelDir(dir);
  const model = VitModel.create(config, weights);
  const loadMs = performance.now() - started;
  const next = mulberry32(0);
  const pixels = Float32Array.from({ length: 3 * config.image_size ** 2 }, () => 2 * next() - 1);
  await model.embedBatch(pixels, 1);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await model.embedBatch(pixels, 1);
    const { user, system } = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((user + system) / 1000);
  }
  model.dispose();
  console.log(JSON.stringify({ loadMs, msPerImage: median(wall), cpuMsPerImage: median(cpu), peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
}

interface Row {
  suite: 'vit';
  model: string;
  runtime: string;
  msPerTile: number;
  cpuMsPerTile: number;
  peakRssMiB: number;
  loadMs?: number;
  ratioToPytorch?: number;
}

export async function run(): Promise<{ rows: object[]; note: string }> {
  const rows: Row[] = [];
  for (const model of MODELS) {
    const dir = await folderFor(model);
    const child = await exec(process.execPath, [join(ROOT, 'bench/vit.ts'), '--child', dir, '--repeats', String(model.repeats)], { maxBuffer: 1 << 20 });
    const tfjs = JSON.parse(child.stdout.trim().split('\n').pop() as string) as { loadMs: number; msPerImage: number; cpuMsPerImage: number; peakRssBytes: number };
    const torch = JSON.parse(
      (await exec(PYTHON, [join(ROOT, 'bench/vit-torch.py'), '--architecture', model.architecture, '--threads', '1', '--repeats', String(model.repeats)])).stdout,
    ) as { torch: string; timm: string; msPerImage: number; cpuMsPerImage: number; peakRssBytes: number };
    rows.push(
      {
        suite: 'vit', model: model.name, runtime: 'node tfjs-wasm (fp16 folder), 1 thread', msPerTile: tfjs.msPerImage, cpuMsPerTile: tfjs.cpuMsPerImage,
        peakRssMiB: tfjs.peakRssBytes / 2 ** 20, loadMs: tfjs.loadMs, ratioToPytorch: tfjs.cpuMsPerImage / torch.cpuMsPerImage,
      },
      { suite: 'vit', model: model.name, runtime: `pytorch ${torch.torch} timm ${torch.timm} fp32, 1 thread`, msPerTile: torch.msPerImage, cpuMsPerTile: torch.cpuMsPerImage, peakRssMiB: torch.peakRssBytes / 2 ** 20 },
    );
  }
  return { rows, note: 'batch 1, 224 px, random weights; peak RSS of the measuring process (tfjs holds float32 in the wasm heap; fp16 is storage only)' };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { child: { type: 'string' }, repeats: { type: 'string', default: '3' } } });
  if (values.child) await measureChild(values.child, Number(values.repeats));
  else console.table((await run()).rows);
}
