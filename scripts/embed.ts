// Runs the ViT feature extractor in Node on tfjs-backend-wasm (the same model code as the browser
// worker) and prints one [CLS] token per image.
//
// Usage: npm run embed -- --model <dir> [--json] [--batch 8] [--threads <n>] <image.png|jpg ...>
//   --json prints {"model":{...},"backend":"wasm","threads":n,"images":[...],"tokens":[[...], ...]}
//   --threads: worker threads, each running the model on one wasm thread (default: every core)

import { parseArgs } from 'node:util';
import { defaultEmbedThreads, NodeEmbedPool } from '../src/vit/node-embed-pool.ts';
import { readImageFile } from '../src/vit/node-io.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { model: { type: 'string' }, json: { type: 'boolean', default: false }, batch: { type: 'string', default: '8' }, threads: { type: 'string' } },
});
try {
  if (!values.model || positionals.length === 0) throw new Error('usage: npm run embed -- --model <dir> [--json] [--batch 8] [--threads <n>] <images...>');
  const threads = values.threads === undefined ? defaultEmbedThreads() : Number(values.threads);
  const images = await Promise.all(positionals.map(readImageFile));
  const pool = await NodeEmbedPool.start(values.model, threads);
  const { config, processor, modelSha256 } = pool.model;
  const started = performance.now();
  const tokens = await pool.embed(images, Number(values.batch)).finally(() => pool.close());
  const msPerImage = (performance.now() - started) / images.length;
  // Each thread runs tfjs-backend-wasm single-threaded (tfjs has no wasm threads under Node).
  const backend = 'wasm';
  if (values.json) {
    const output = { model: { dir: values.model, modelSha256, config, processor }, backend, threads, images: positionals, tokens: tokens.map((t) => Array.from(t)) };
    console.log(JSON.stringify(output));
  } else {
    console.log(`${values.model} (${modelSha256.slice(0, 12)}) on ${backend} in ${threads} thread(s): ${msPerImage.toFixed(1)} ms per image`);
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
