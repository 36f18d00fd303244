// The privacy audit: every attack in src/privacy run on the bundled sample tiles, scored with PSNR / SSIM / NMI /
// LPIPS-or-unavailable. Writes <out>/audit.json and the original/reconstruction PNGs the app's Privacy page shows.
//
// Usage: npm run audit -- [--json] [--out public/audit] [--quick] [--samples public/samples] [--model public/models/tiny]
//                         [--lpips-weights <alexnet-lpips.safetensors>]
//   --json   print audit.json instead of the table      --quick   a smoke run of a few seconds (tests)
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatAuditTable, runAudit } from '../src/privacy/audit.ts';
import { writePng } from '../src/privacy/png.ts';
import { useNodeWasmBackend } from '../src/vit/node-io.ts';
import { readSafetensors } from '../src/vit/safetensors.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, 'public', 'audit') },
    samples: { type: 'string', default: join(root, 'public', 'samples') },
    model: { type: 'string', default: join(root, 'public', 'models', 'tiny') },
    'lpips-weights': { type: 'string' },
  },
});

try {
  const started = performance.now();
  await useNodeWasmBackend();
  const weightsPath = values['lpips-weights'];
  const lpipsWeights = weightsPath ? readSafetensors(readFileSync(weightsPath)).tensors : undefined;
  const { report, images } = await runAudit({
    samplesDir: values.samples,
    modelDir: values.model,
    quick: values.quick,
    ...(lpipsWeights ? { lpipsWeights } : {}),
    log: (line) => console.error(`audit: ${line}`),
  });
  mkdirSync(values.out, { recursive: true });
  // Replace the previous run's PNGs so the folder holds exactly what audit.json names.
  for (const name of readdirSync(values.out)) if (name.endsWith('.png')) rmSync(join(values.out, name));
  for (const [name, image] of images) writePng(join(values.out, name), image);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(values.out, 'audit.json'), json);
  if (values.json) process.stdout.write(json);
  else {
    console.log(formatAuditTable(report));
    console.log(`\ndataset-mean guess: PSNR ${String(report.meanGuess.psnr)} dB; ${report.lpipsNote ?? ''}`);
    console.log(`wrote ${values.out}/audit.json and ${images.size} PNGs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
} catch (error) {
  console.error(`audit: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
