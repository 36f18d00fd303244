// The audit's slide-level rows (issue 15, point 5): what one clinic's ABMIL update shows in clear, and what the
// coordinator sees of it (ciphertexts only), scored like every other row on the bundled sample tiles.
//   clear:       the sample tiles as slides of SLIDE_TILES tiles; each slide's gradient from the global model gives
//                tokens back (abmil-gradient-attack.ts), which the insider's token→tile decoder redraws; tiles whose
//                token stays hidden get the attacker's mean image.
//   ciphertexts: each tile as a one-tile slide (the attacker's best case); the upload's first ciphertext (it holds
//                W1's first rows, the values that depend on the tile most directly) goes through the same learned
//                decoder as the token-ciphertext row, trained on the attacker's own slides under its own key.
import type { HeContext } from '../he/context.ts';
import { encryptWeightedContribution } from '../he/aggregate.ts';
import { abmilLossAndGradient, abmilShape, initAbmil, type AbmilShape } from '../fl/abmil.ts';
import { readModelDir } from '../vit/node-io.ts';
import { recoverTokensFromAbmilGradient, relativeDistance, type FinalNorm } from './abmil-gradient-attack.ts';
import type { LabelledTile } from './audit-tiles.ts';
import type { ScenarioSink } from './audit.ts';
import { chosenPlaintextDecoder } from './chosen-plaintext-decoder.ts';
import type { ImageDecoderOptions, ImageDecoderReport } from './image-decoder.ts';
import type { RgbImage } from './image.ts';

/** Tiles per victim slide in the clear row. Real slides have thousands; the bag-size sweep shows how recovery falls. */
const SLIDE_TILES = 6;
const GLOBAL_MODEL_SEED = 31;

export interface AbmilAuditInput {
  modelDir: string;
  classes: readonly string[];
  victims: readonly LabelledTile[];
  victimTokens: readonly Float32Array[];
  attackerImages: readonly RgbImage[];
  attackerTokens: readonly Float32Array[];
  /** The insider's token→tile decoder (trained on the attacker's own tiles). */
  insider: { predict(features: readonly Float32Array[]): Promise<RgbImage[]> };
  meanImage: RgbImage;
  ctx: HeContext;
  decoderOptions: ImageDecoderOptions;
  samplesTarget: string;
  samplesOriginal: string;
  describeDecoder(report: ImageDecoderReport): string;
  quick: boolean;
}

/** The encoder's final LayerNorm, which the attacker reads from the public model. */
async function finalNormOf(modelDir: string): Promise<FinalNorm> {
  const { weights } = await readModelDir(modelDir);
  for (const prefix of ['layernorm', 'norm']) {
    const gamma = weights.get(`${prefix}.weight`);
    const beta = weights.get(`${prefix}.bias`);
    if (gamma && beta) return { gamma, beta };
  }
  throw new Error(`${modelDir}: no final LayerNorm (layernorm.weight / norm.weight) to test recovered tokens against`);
}

const bagOf = (tokens: readonly Float32Array[]) => {
  const flat = new Float32Array(tokens.length * (tokens[0]?.length ?? 0));
  tokens.forEach((t, i) => flat.set(t, i * t.length));
  return flat;
};

function slideGradient(shape: AbmilShape, model: Float64Array, tokens: readonly Float32Array[], label: number): Float64Array {
  return abmilLossAndGradient(shape, model, bagOf(tokens), label).gradient;
}

export async function abmilScenarios(recorder: ScenarioSink, input: AbmilAuditInput): Promise<void> {
  const { victims, victimTokens, attackerTokens, meanImage, classes } = input;
  const dim = victimTokens[0]!.length;
  const shape = abmilShape(dim, classes.length);
  const model = initAbmil(shape, GLOBAL_MODEL_SEED);
  const norm = await finalNormOf(input.modelDir);
  const labelOf = (tile: LabelledTile) => classes.indexOf(tile.label);

  let started = performance.now();
  const reconstructions: RgbImage[] = victims.map(() => meanImage);
  let recoveredTiles = 0;
  for (let first = 0; first < victims.length; first += SLIDE_TILES) {
    const tokens = victimTokens.slice(first, first + SLIDE_TILES);
    const recovered = recoverTokensFromAbmilGradient(shape, slideGradient(shape, model, tokens, labelOf(victims[first]!)), norm);
    const drawn = await input.insider.predict(recovered.map((r) => r.token));
    recovered.forEach((r, i) => {
      // Scoring only: each recovered token is scored against the slide's tile it is closest to.
      const distances = tokens.map((t) => relativeDistance(r.token, t));
      const tile = first + distances.indexOf(Math.min(...distances));
      if (reconstructions[tile] === meanImage) recoveredTiles++;
      reconstructions[tile] = drawn[i]!;
    });
  }
  const sweep = (input.quick ? [1, 4, 16] : [1, 4, 16, 64, 200]).filter((n) => n <= attackerTokens.length).map((n) => {
    const tokens = attackerTokens.slice(0, n);
    const recovered = recoverTokensFromAbmilGradient(shape, slideGradient(shape, model, tokens, 0), norm);
    const real = recovered.filter((r) => tokens.some((t) => relativeDistance(r.token, t) < 1e-3)).length;
    return `${real}/${n}${recovered.length > real ? ` (+${recovered.length - real} false)` : ''}`;
  });
  await recorder.add(
    {
      id: 'abmil-update-clear',
      title: 'Shared ABMIL update in clear (one slide’s gradient): tile tokens recovered, then redrawn',
      meaning: 'Without encryption, a slide-level model update gives away many of the slide’s tile tokens exactly, and with them what the insider decoder can redraw.',
      target: `${input.samplesTarget}, as slides of ${SLIDE_TILES} tiles`,
      details: `tokens recovered exactly: ${recoveredTiles}/${victims.length} (ratio dL/dW1[:,k] / dL/db1[k] of units one tile switches on alone, kept only when it passes the final-LayerNorm test, which mixtures of tiles almost always fail). On the attacker's own tiles, tokens recovered from one slide's gradient by slide size: ${sweep.join(', ')}. Global model: initAbmil(seed ${GLOBAL_MODEL_SEED}), D = ${dim}. Best case for the attacker (FedSGD); the abmil strategy shares the model after Adam steps, which this closed form cannot invert. Needs a [CLS] token (cls pooling)`,
    },
    victims.map((t) => t.image),
    reconstructions,
    started,
    input.samplesOriginal,
  );

  started = performance.now();
  const { ctx } = input;
  const round = { clinicCount: 3 };
  const firstCiphertext = async (key: Uint8Array, federation: string, token: Float32Array, label: number) => {
    const gradient = slideGradient(shape, model, [token], label);
    return (await encryptWeightedContribution(ctx, key, federation, gradient.subarray(0, ctx.slotCount - 1), 1, round))[0]!;
  };
  const coordinator = await chosenPlaintextDecoder({
    ctx,
    encrypt: (key, federationId, i, own) => (own ? firstCiphertext(key, federationId, attackerTokens[i]!, i % classes.length) : firstCiphertext(key, federationId, victimTokens[i]!, labelOf(victims[i]!))),
    attackerImages: input.attackerImages,
    victimCount: victimTokens.length,
    federations: { attacker: 'audit-coordinator-own-abmil-key', victim: 'audit-hospital-abmil' },
    decoderOptions: input.decoderOptions,
  });
  await recorder.add(
    {
      id: 'abmil-update-ciphertexts',
      title: "Coordinator's view of ABMIL uploads (ciphertexts): learned decoder, chosen plaintexts",
      meaning: 'Encrypted, the same slide-level update tells the coordinator nothing it could redraw a tile from.',
      target: `${input.samplesTarget}, each as a one-tile slide`,
      details: `each tile's one-tile-slide gradient encrypted with encryptWeightedContribution (${ctx.preset.id}), the upload's first ciphertext (W1's first ${ctx.slotCount - 1} values) read as the token-ciphertext row does; the attacker trained on its own tiles' uploads under its own key. ${input.describeDecoder(coordinator.report)}`,
    },
    victims.map((t) => t.image),
    coordinator.images,
    started,
    input.samplesOriginal,
  );
}
