// The gradient-encryption baseline: what standard federated fine-tuning of a ViT would encrypt and send each round,
// defined here as the update of the classifier head plus the update of the last transformer block (the usual
// "fine-tune the top of the backbone" setting), packed 4,096 values per agg-v1 ciphertext with the count in the
// last slot, exactly like the head-only contribution. The parameter count comes from the architecture (the HF
// ViTModel tensor list of src/vit/weights.ts), not from a constant: 7,087,872 for ViT-B/16's encoder.layer.11.
import { weightedCiphertextCount } from '../he/aggregate.ts';
import type { HeContext } from '../he/context.ts';
import { VIT_PRESETS } from '../vit/config.ts';
import type { VitConfig } from '../vit/config.ts';
import { expectedVitTensors } from '../vit/weights.ts';

/** Parameters of the last transformer block (attention q/k/v/output, MLP, both LayerNorms) of `config`. */
export function lastBlockParameterCount(config: VitConfig = VIT_PRESETS['vit-b16']): number {
  const prefix = `encoder.layer.${config.num_hidden_layers - 1}.`;
  return expectedVitTensors(config)
    .filter((t) => t.name.startsWith(prefix))
    .reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

export interface GradientPayload {
  /** Values of the head update (classes x dim weights + classes biases). */
  headValues: number;
  blockValues: number;
  /** Ciphertexts of head update + block update + count. */
  ciphertexts: number;
  /** Of which only the head part (with the count) is actually sent by the simulation. */
  headCiphertexts: number;
  /** Counted at the measured bytes per ciphertext, not sent. */
  accountedCiphertexts: number;
}

export function gradientPayload(ctx: HeContext, classes: number, dim: number, config: VitConfig = VIT_PRESETS['vit-b16']): GradientPayload {
  const headValues = classes * dim + classes;
  const blockValues = lastBlockParameterCount(config);
  const ciphertexts = weightedCiphertextCount(ctx, headValues + blockValues);
  const headCiphertexts = weightedCiphertextCount(ctx, headValues);
  return { headValues, blockValues, ciphertexts, headCiphertexts, accountedCiphertexts: ciphertexts - headCiphertexts };
}

/** The baseline's definition, as the README states it, for the UI to show beside the numbers. */
export const GRADIENT_ENCRYPTION_DEFINITION =
  'gradient-encryption: what standard federated fine-tuning would encrypt and send each round: the update of the ' +
  `classifier head plus the update of the last transformer block of ViT-B/16 (${lastBlockParameterCount().toLocaleString('en-US')} ` +
  'parameters), with the sample count, packed 4,096 values per agg-v1 CKKS ciphertext. Its accuracy is that of the ' +
  'same head trained by FedAvg of encrypted head updates (the backbone stays frozen on cached [CLS] tokens); its ' +
  'bytes are all those ciphertexts at the measured size of one.';
