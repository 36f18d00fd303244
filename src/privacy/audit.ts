// The privacy audit (issue 8): every attack of this folder run on real tiles, scored with the same metrics, as one
// report. Node-only (reads the bundled tiles and model from disk, uses node-seal). scripts/audit.ts is its CLI and
// writes the report and images to public/audit/ for the app's Privacy page.
//
// The victims are the bundled sample tiles; every learned attacker trains only on tiles it drew itself
// (audit-tiles.ts: the same generator at indices the bundle never uses), and the dataset-mean guess is the mean of
// those attacker tiles, so no scenario ever sees a victim tile before it is scored.
import { relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { HeContext } from '../he/context.ts';
import { sealKeyFile } from '../he/keyfile.ts';
import { encryptTokenBatch } from '../he/tokens.ts';
import { abmilScenarios } from './abmil-audit.ts';
import { chosenPlaintextDecoder } from './chosen-plaintext-decoder.ts';
import { clsTokens, drawAttackerTiles, readSampleTiles, type LabelledTile } from './audit-tiles.ts';
import { createFcFirstModel, disposeFcFirstModel, fcFirstLayerGradients, recoverImageFromFirstLayerGradients } from './fc-gradient-attack.ts';
import { cnnGradients, cnnParameters, createSmallCnn, invertGradients } from './gradient-matching.ts';
import { trainImageDecoder, type ImageDecoderOptions, type ImageDecoderReport } from './image-decoder.ts';
import type { RgbImage } from './image.ts';
import { createLpipsNet, type LpipsNet, type LpipsWeights } from './lpips.ts';
import { datasetMeanImage } from './mean-image-attack.ts';
import { imageMetrics, metricToJson, type ImageMetrics, type JsonMetric } from './metrics.ts';
import { imageToTensor } from './tensor-image.ts';

export interface AuditOptions {
  /** Folder with index.json and the sample PNGs (public/samples). */
  samplesDir: string;
  /** ViT model folder whose [CLS] tokens are attacked (public/models/tiny). */
  modelDir: string;
  /** Fewer attacker tiles, epochs and matching steps, no 32 px matching: a smoke run of a few seconds. */
  quick?: boolean;
  /** AlexNet-LPIPS weights; without them LPIPS is reported as 'unavailable'. */
  lpipsWeights?: LpipsWeights;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface AuditScenario {
  id: string;
  title: string;
  /** One plain sentence for a hospital reader. */
  meaning: string;
  /** What was attacked. */
  target: string;
  /** Mean over the target tiles (dB); the string 'Infinity' for an exact copy. */
  psnr: JsonMetric;
  ssim: number;
  nmi: number;
  lpips: number | 'unavailable';
  /** PNG file names relative to the output folder. */
  images: { original: string; reconstruction: string };
  /** How it was run (settings, what the attacker had), for the technical reader. */
  details: string;
  seconds: number;
}

export interface AuditReport {
  generatedAt: string;
  quick: boolean;
  /** Present when LPIPS could not be computed for some scenario, saying why. */
  lpipsNote?: string;
  scenarios: AuditScenario[];
  /** The dataset-mean guess on the sample tiles: the floor an attacker with no information reaches. */
  meanGuess: { psnr: JsonMetric; ssim: number; nmi: number };
}

export interface AuditRun {
  report: AuditReport;
  /** Every PNG the report names, by file name. */
  images: Map<string, RgbImage>;
}

const SAMPLE_GRID_COLUMNS = 6;
const NO_LPIPS_WEIGHTS = 'no AlexNet-LPIPS weights were supplied (pass --lpips-weights <file.safetensors>); LPIPS is never estimated';
const LPIPS_MIN_SIZE = 31;

/** Images side by side in rows of `columns` (all the same size). */
export function imageGrid(images: readonly RgbImage[], columns: number): RgbImage {
  const first = images[0];
  if (!first) throw new Error('imageGrid: needs at least one image');
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / cols);
  const width = cols * first.width;
  const height = rows * first.height;
  const data = new Float32Array(width * height * 3).fill(255);
  images.forEach((image, index) => {
    if (image.width !== first.width || image.height !== first.height) {
      throw new Error(`imageGrid: image ${index} is ${image.width}x${image.height}, image 0 is ${first.width}x${first.height}`);
    }
    const left = (index % cols) * first.width;
    const top = Math.floor(index / cols) * first.height;
    for (let y = 0; y < image.height; y++) {
      for (let i = 0; i < image.width * 3; i++) data[((top + y) * width + left) * 3 + i] = image.data[y * image.width * 3 + i]!;
    }
  });
  return { width, height, channels: 3, data };
}

/** The `size`×`size` square at the top-left corner. */
export function cropTopLeft(image: RgbImage, size: number): RgbImage {
  if (size > image.width || size > image.height) throw new Error(`cropTopLeft: ${size} px crop of a ${image.width}x${image.height} image`);
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) data.set(image.data.subarray(y * image.width * 3, y * image.width * 3 + size * 3), y * size * 3);
  return { width: size, height: size, channels: 3, data };
}

function averageMetrics(pairs: readonly ImageMetrics[]): ImageMetrics {
  const mean = (key: keyof ImageMetrics) => pairs.reduce((sum, m) => sum + m[key], 0) / pairs.length;
  return { psnr: mean('psnr'), ssim: mean('ssim'), nmi: mean('nmi') };
}

/** Where a scenario's reconstructions are scored and kept (the recorder below; abmil-audit.ts adds its rows to it). */
export interface ScenarioSink {
  add(
    scenario: Omit<AuditScenario, 'psnr' | 'ssim' | 'nmi' | 'lpips' | 'images' | 'seconds'>,
    originals: readonly RgbImage[],
    reconstructions: readonly RgbImage[],
    started: number,
    originalFile?: string,
  ): Promise<ImageMetrics>;
}

class ScenarioRecorder implements ScenarioSink {
  readonly scenarios: AuditScenario[] = [];
  readonly images = new Map<string, RgbImage>();
  lpipsNote: string | undefined;
  readonly #lpips: LpipsNet | undefined;
  readonly #log: (line: string) => void;

  constructor(lpips: LpipsNet | undefined, log: (line: string) => void) {
    this.#lpips = lpips;
    this.#log = log;
    if (!lpips) this.lpipsNote = NO_LPIPS_WEIGHTS;
  }

  /** Scores reconstructions[i] against originals[i] (averaged) and stores the two images as grids. */
  async add(
    scenario: Omit<AuditScenario, 'psnr' | 'ssim' | 'nmi' | 'lpips' | 'images' | 'seconds'>,
    originals: readonly RgbImage[],
    reconstructions: readonly RgbImage[],
    started: number,
    originalFile = `${scenario.id}-original.png`,
  ): Promise<ImageMetrics> {
    const metrics = averageMetrics(originals.map((original, i) => imageMetrics(original, reconstructions[i]!)));
    let lpips: number | 'unavailable' = 'unavailable';
    const first = originals[0]!;
    if (this.#lpips && Math.min(first.width, first.height) >= LPIPS_MIN_SIZE) {
      let sum = 0;
      for (let i = 0; i < originals.length; i++) sum += await this.#lpips.distance(originals[i]!, reconstructions[i]!);
      lpips = sum / originals.length;
    } else if (this.#lpips) {
      this.lpipsNote = `LPIPS needs images of at least ${LPIPS_MIN_SIZE} px (AlexNet shrinks them 32-fold); smaller crops are 'unavailable'`;
    }
    const reconstructionFile = `${scenario.id}-reconstruction.png`;
    this.images.set(originalFile, imageGrid(originals, SAMPLE_GRID_COLUMNS));
    this.images.set(reconstructionFile, imageGrid(reconstructions, SAMPLE_GRID_COLUMNS));
    const seconds = (performance.now() - started) / 1000;
    this.scenarios.push({
      ...scenario,
      psnr: metricToJson(metrics.psnr),
      ssim: metrics.ssim,
      nmi: metrics.nmi,
      lpips,
      images: { original: originalFile, reconstruction: reconstructionFile },
      seconds,
    });
    this.#log(`${scenario.id}: PSNR ${metrics.psnr.toFixed(2)} dB, SSIM ${metrics.ssim.toFixed(3)}, NMI ${metrics.nmi.toFixed(3)} (${seconds.toFixed(1)} s)`);
    return metrics;
  }
}

function describeDecoder(report: ImageDecoderReport): string {
  const kept = report.bestEpoch === 0 ? 'no epoch beat the untrained decoder (= the mean image) on held-out tiles, so it was kept' : `epoch ${report.bestEpoch} kept`;
  return `MLP (hidden 256) trained ${report.epochs} epochs on ${report.trainingPairs} pairs in ${report.seconds.toFixed(1)} s, ${report.validationPairs} held out: validation MSE ${report.validationMseBefore.toFixed(4)} untrained, ${report.validationMseBest.toFixed(4)} best (${kept}), ${report.validationMseLast.toFixed(4)} after the last epoch`;
}

async function gradientScenarios(recorder: ScenarioRecorder, target: LabelledTile, label: number, quick: boolean): Promise<void> {
  let started = performance.now();
  const fc = createFcFirstModel(target.image.width * target.image.height * 3, 64, 3, 21);
  const gradients = await fcFirstLayerGradients(fc, target.image, label);
  disposeFcFirstModel(fc);
  await recorder.add(
    {
      id: 'gradient-analytic',
      title: 'Shared gradients, dense first layer: analytic recovery',
      meaning: 'In standard federated learning, the update a hospital sends after training on one tile lets the server rebuild that tile exactly, with simple arithmetic.',
      target: `${target.name} (${target.image.width} px)`,
      details: 'two-layer perceptron (64 hidden units), one image per update; x = Σ b_k·dW[:,k] / Σ b_k² over the first-layer gradients',
    },
    [target.image],
    [recoverImageFromFirstLayerGradients(gradients, target.image.width, target.image.height)],
    started,
  );

  const matchingRuns = quick
    ? [{ size: 16, iterations: 60, learningRate: 0.1, tvWeight: 1e-4 }]
    : [
        { size: 16, iterations: 300, learningRate: 0.1, tvWeight: 1e-4 },
        { size: 32, iterations: 300, learningRate: 0.2, tvWeight: 1e-3 },
      ];
  for (const { size, iterations, learningRate, tvWeight } of matchingRuns) {
    started = performance.now();
    const crop = cropTopLeft(target.image, size);
    const model = createSmallCnn(size, 12, 3, 11);
    const x = imageToTensor(crop);
    const shared = cnnGradients(model, x, label);
    const result = await invertGradients(model, shared, size, { iterations, learningRate, tvWeight });
    tf.dispose([x, ...shared, ...cnnParameters(model)]);
    await recorder.add(
      {
        id: `gradient-matching-${size}px`,
        title: `Shared gradients, small CNN: gradient matching (${size} px crop)`,
        meaning:
          size <= 16
            ? 'Even when no formula exists, the server can search for the image that would produce the same update, and on small tiles finds it almost exactly.'
            : 'On a larger crop the same search still redraws the cell nuclei where they are; only the edges of the crop stay blurred.',
        target: `top-left ${size} px crop of ${target.name}`,
        details: `conv5x5-sigmoid x2 + dense (12 channels); ${iterations} Adam steps, lr ${learningRate}, TV ${tvWeight}; label ${result.label} inferred from the gradients; final gradient distance ${result.finalDistance.toExponential(2)}`,
      },
      [crop],
      [result.image],
      started,
    );
  }
}

/** Runs every scenario; see AuditOptions. */
export async function runAudit(options: AuditOptions): Promise<AuditRun> {
  const { samplesDir, modelDir, quick = false, lpipsWeights, log = () => {} } = options;
  const lpipsNet = lpipsWeights ? createLpipsNet(lpipsWeights) : undefined;
  const recorder = new ScenarioRecorder(lpipsNet, log);
  try {
    const victims = readSampleTiles(samplesDir);
    const classes = [...new Set(victims.map((t) => t.label))];
    const victimImages = victims.map((t) => t.image);
    const target = victims[0]!;
    await gradientScenarios(recorder, target, classes.indexOf(target.label), quick);

    let started = performance.now();
    const attacker = drawAttackerTiles(quick ? 40 : 200);
    const attackerImages = attacker.map((t) => t.image);
    const [attackerTokens, victimTokens] = [await clsTokens(modelDir, attackerImages), await clsTokens(modelDir, victimImages)];
    const decoderOptions: ImageDecoderOptions = { hidden: 256, epochs: quick ? 8 : 25, learningRate: 3e-4 };
    log(`tokens of ${attacker.length} attacker and ${victims.length} sample tiles: ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const meanImage = datasetMeanImage(attackerImages);
    const classMean = new Map(classes.map((c) => [c, datasetMeanImage(attacker.filter((t) => t.label === c).map((t) => t.image))]));
    const classMeanPsnr = averageMetrics(victims.map((v) => imageMetrics(v.image, classMean.get(v.label) ?? meanImage))).psnr;
    const samplesOriginal = 'samples-original.png';
    const samplesTarget = `the ${victims.length} bundled sample tiles (${victims[0]!.image.width} px; metrics averaged)`;

    const insider = await trainImageDecoder(attackerTokens, attackerImages, decoderOptions);
    const insiderImages = await insider.predict(victimTokens);
    await recorder.add(
      {
        id: 'insider-token-decoder',
        title: 'Decrypted [CLS] tokens: learned decoder (insider with the key)',
        meaning:
          'Someone who holds the federation key and decrypts a tile’s token can redraw the tile’s overall colour and tissue type, but not its actual cells.',
        target: samplesTarget,
        details: `${describeDecoder(insider.report)}; tokens from ${relative(process.cwd(), modelDir) || '.'} via the app's ViT code; attacker tiles drawn at generator indices ≥ 100. For scale: guessing each tile's class-average image scores ${classMeanPsnr.toFixed(2)} dB`,
      },
      victimImages,
      insiderImages,
      started,
      samplesOriginal,
    );

    started = performance.now();
    const ctx = await HeContext.create('agg-v1');
    // What a clinic uploads: each tile's token under the federation key the coordinator never sees, plus the key
    // wrapped under the clinic's passphrase.
    const coordinator = await chosenPlaintextDecoder({
      ctx,
      encrypt: async (key, federationId, i, own) => (await encryptTokenBatch(ctx, key, federationId, [(own ? attackerTokens : victimTokens)[i]!]))[0]!,
      attackerImages,
      victimCount: victimTokens.length,
      federations: { attacker: 'audit-coordinator-own-key', victim: 'audit-hospital' },
      decoderOptions,
    });
    const stored = coordinator.victimCiphertexts;
    const wrappedKey = await sealKeyFile(coordinator.victimKey, 'audit passphrase the coordinator does not know');
    await recorder.add(
      {
        id: 'coordinator-ciphertexts',
        title: "Coordinator's view (ciphertexts, wrapped key): learned decoder, chosen plaintexts",
        meaning: 'The coordinator, which stores only encrypted tokens and a password-locked key, cannot rebuild a tile any better than by drawing the average tile.',
        target: samplesTarget,
        details: `each tile's token encrypted alone with encryptTokenBatch (agg-v1, ${stored[0]!.length} B envelopes); features = first 512 residues of c0 / q0 + envelope length; the attacker trained on its own tiles encrypted under its own key. ${describeDecoder(coordinator.report)}. The ${wrappedKey.length} B wrapped key is the same for every tile, so it cannot tell tiles apart`,
      },
      victimImages,
      coordinator.images,
      started,
      samplesOriginal,
    );

    const slideInput = { modelDir, classes, victims, victimTokens, attackerImages, attackerTokens, insider, meanImage, ctx, decoderOptions, samplesTarget, samplesOriginal, describeDecoder, quick };
    try {
      await abmilScenarios(recorder, slideInput);
    } finally {
      insider.dispose();
    }

    started = performance.now();
    const meanGuess = await recorder.add(
      {
        id: 'mean-guess',
        title: 'No information: the average tile',
        meaning: 'The baseline: what anyone can guess about a tile without seeing anything of it.',
        target: samplesTarget,
        details: `pixel-wise mean of the ${attacker.length} attacker tiles`,
      },
      victimImages,
      victimImages.map(() => meanImage),
      started,
      samplesOriginal,
    );
    const report: AuditReport = {
      generatedAt: new Date().toISOString(),
      quick,
      ...(recorder.lpipsNote ? { lpipsNote: recorder.lpipsNote } : {}),
      scenarios: recorder.scenarios,
      meanGuess: { psnr: metricToJson(meanGuess.psnr), ssim: meanGuess.ssim, nmi: meanGuess.nmi },
    };
    return { report, images: recorder.images };
  } finally {
    lpipsNet?.dispose();
  }
}

const cell = (value: JsonMetric | number | 'unavailable', digits: number) => (typeof value === 'number' ? value.toFixed(digits) : value);

/** The report as a Markdown table (also readable in a terminal). */
export function formatAuditTable(report: AuditReport): string {
  const lines = [
    '| scenario | target | PSNR dB | SSIM | NMI | LPIPS | time s |',
    '|---|---|---|---|---|---|---|',
    ...report.scenarios.map(
      (s) => `| ${s.title} | ${s.target} | ${cell(s.psnr, 2)} | ${cell(s.ssim, 4)} | ${cell(s.nmi, 3)} | ${cell(s.lpips, 3)} | ${s.seconds.toFixed(1)} |`,
    ),
  ];
  return lines.join('\n');
}
