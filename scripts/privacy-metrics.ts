// npm run privacy:metrics -- <original.png> <reconstruction.png>
// Prints {"psnr":…,"ssim":…,"nmi":…} (PSNR of identical images is the string "Infinity"). Exit code 2 on bad input.
import { parseArgs } from 'node:util';
import { assertSameSize } from '../src/privacy/image.ts';
import { imageMetrics, metricsToJson } from '../src/privacy/metrics.ts';
import { readPng } from '../src/privacy/png.ts';

const USAGE = 'usage: npm run privacy:metrics -- <original.png> <reconstruction.png>';

function main(argv: string[]): number {
  let args: string[];
  try {
    args = parseArgs({ args: argv, options: {}, allowPositionals: true }).positionals;
  } catch (error) {
    console.error(`privacy:metrics: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.length !== 2) {
    console.error(`privacy:metrics: expected 2 PNG paths, got ${args.length}\n${USAGE}`);
    return 2;
  }
  const [originalPath, reconstructionPath] = args as [string, string];
  try {
    const original = readPng(originalPath);
    const reconstruction = readPng(reconstructionPath);
    try {
      assertSameSize(original, reconstruction);
    } catch (error) {
      throw new Error(`${originalPath} vs ${reconstructionPath}: ${(error as Error).message}`, { cause: error });
    }
    console.log(metricsToJson(imageMetrics(original, reconstruction)));
    return 0;
  } catch (error) {
    console.error(`privacy:metrics: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
