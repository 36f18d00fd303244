// The coordinator's strongest learned attack on what it stores: chosen plaintexts. It makes a key of its own,
// encrypts its own tiles' data with it the way a clinic would, learns ciphertext features → tile (image-decoder.ts),
// and applies that decoder to the victims' ciphertexts, made under the federation key it never sees.
import type { HeContext } from '../he/context.ts';
import { generateSecretKey } from '../he/tokens.ts';
import { ciphertextFeatures } from './ciphertext-features.ts';
import { trainImageDecoder, type ImageDecoderOptions, type ImageDecoderReport } from './image-decoder.ts';
import type { RgbImage } from './image.ts';

export interface ChosenPlaintextAttack {
  /** The attacker's guess of every victim tile. */
  images: RgbImage[];
  report: ImageDecoderReport;
  /** The victims' key (for what else a clinic stores under it, e.g. its wrapped key file). */
  victimKey: Uint8Array;
  /** The victims' ciphertexts, as the coordinator stores them. */
  victimCiphertexts: Uint8Array[];
}

export async function chosenPlaintextDecoder(opts: {
  ctx: HeContext;
  /** One ciphertext envelope for item `index` of the attacker's (own) or the victims' data, under `key`. */
  encrypt(key: Uint8Array, federationId: string, index: number, own: boolean): Promise<Uint8Array>;
  attackerImages: readonly RgbImage[];
  victimCount: number;
  federations: { attacker: string; victim: string };
  decoderOptions: ImageDecoderOptions;
}): Promise<ChosenPlaintextAttack> {
  const { ctx, encrypt, attackerImages, federations } = opts;
  const attackerKey = await generateSecretKey(ctx, federations.attacker);
  const attackerFeatures: Float32Array[] = [];
  for (let i = 0; i < attackerImages.length; i++) attackerFeatures.push(ciphertextFeatures(ctx, await encrypt(attackerKey, federations.attacker, i, true)));
  const victimKey = await generateSecretKey(ctx, federations.victim);
  const victimCiphertexts: Uint8Array[] = [];
  for (let i = 0; i < opts.victimCount; i++) victimCiphertexts.push(await encrypt(victimKey, federations.victim, i, false));
  const decoder = await trainImageDecoder(attackerFeatures, attackerImages, opts.decoderOptions);
  try {
    return { images: await decoder.predict(victimCiphertexts.map((envelope) => ciphertextFeatures(ctx, envelope))), report: decoder.report, victimKey, victimCiphertexts };
  } finally {
    decoder.dispose();
  }
}
