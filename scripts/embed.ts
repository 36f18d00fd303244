// Runs the ViT feature extractor in Node on tfjs-backend-wasm (the same model code as the browser
// worker) and prints one [CLS] token per image.
//
// Usage: npm run embed -- --model <dir> [--json] [--batch 8] <image.png|jpg ...>
//   --json prints {"model":{...},"backend":"wasm","images":[...],"tokens":[[...], ...]}

import { parseArgs } from 'node:util';
import { embedRgbaImages } from '../src/vit/extract.ts';
import { VitModel } from '../src/vit/model.ts';
import { readImageFile, readModelDir, useNodeWasmBackend } from '../src/vit/node-io.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { model: { type: 'string' }, json: { type: 'boolean', default: false }, batch: { type: 'string', default: '8' } },
});
try {
  if (!values.model || positionals.length === 0) throw new Error('usage: npm run embed -- --model <dir> [--json] [--batch 8] <images...>');
  const { backend } = await useNodeWasmBackend();
  const { config, processor, weights, modelSha256 } = await readModelDir(values.model);
  const images = await Promise.all(positionals.map(readImageFile));
  const model = VitModel.create(config, weights);
  const started = performance.now();
  const tokens = await embedRgbaImages(model, processor, images, Number(values.batch));
  const msPerImage = (performance.now() - started) / images.length;
  model.dispose();
  if (values.json) {
    const output = { model: { dir: values.model, modelSha256, config, processor }, backend, images: positionals, tokens: tokens.map((t) => Array.from(t)) };
    console.log(JSON.stringify(output));
  } else {
    console.log(`${values.model} (${modelSha256.slice(0, 12)}) on ${backend}: ${msPerImage.toFixed(1)} ms per image`);
    positionals.forEach((path, i) => {
      const token = tokens[i] as Float32Array;
      const norm = Math.hypot(...token);
      console.log(`${path}: |cls| = ${norm.toFixed(4)}, first values ${Array.from(token.slice(0, 4), (v) => v.toFixed(5)).join(' ')}`);
    });
  }
} catch (error) {
  console.error(`embed: ${(error as Error).message}`);
  process.exitCode = 1;
}
