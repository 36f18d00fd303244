// mean-pool: a slide becomes the mean of its tile tokens, and that one token per slide (with the slide label) goes
// into a tile strategy unchanged: prototypes (pooled class means of slide means), ridge (Gram statistics of slide
// means) or fedavg-head (FedAvg of a head trained on slide means). The traffic is the inner strategy's; a count is
// a slide count. The pooled head is linear, so the coordinator can also serve it by encrypted inference.
import type { LinearHead } from '../../he/head.ts';
import { zeroHead } from '../head.ts';
import type { TokenSet } from '../dataset.ts';
import { meanPoolSlides } from '../slides.ts';
import type { SlideClinicData, SlideSet } from '../slides.ts';
import type { SlideStrategy, Strategy } from './types.ts';

export class MeanPool implements SlideStrategy<LinearHead> {
  readonly name = 'mean-pool';
  readonly inner: Strategy;
  /** Slide sets are immutable; pooling each once keeps multi-round strategies from re-averaging every round. */
  readonly #pooled = new WeakMap<SlideSet, TokenSet>();

  constructor(inner: Strategy) {
    this.inner = inner;
  }

  pooled(set: SlideSet): TokenSet {
    let tokens = this.#pooled.get(set);
    if (!tokens) this.#pooled.set(set, (tokens = meanPoolSlides(set)));
    return tokens;
  }

  initialModel(classes: number, dim: number): LinearHead {
    return zeroHead(classes, dim);
  }

  roundsFor(requested: number): number {
    return this.inner.roundsFor(requested);
  }

  contributionLength(classes: number, dim: number): number {
    return this.inner.contributionLength(classes, dim);
  }

  roundBounds(clinicCount: number) {
    return this.inner.roundBounds(clinicCount);
  }

  contribute(clinic: SlideClinicData, global: LinearHead, round: number): Promise<Float64Array> {
    return this.inner.contribute({ index: clinic.index, train: this.pooled(clinic.train), validation: this.pooled(clinic.validation) }, global, round);
  }

  combine(sum: Float64Array, previous: LinearHead): LinearHead {
    return this.inner.combine(sum, previous);
  }

  /** Softmax of the head's logits on each slide's mean token (float64). */
  probabilities(head: LinearHead, set: SlideSet): Float64Array[] {
    const tokens = this.pooled(set);
    return Array.from({ length: tokens.count }, (_, s) => {
      const logits = Float64Array.from({ length: head.classes }, (_, c) => {
        let v = head.biases[c] as number;
        for (let j = 0; j < head.dim; j++) v += (head.weights[c * head.dim + j] as number) * (tokens.tokens[s * head.dim + j] as number);
        return v;
      });
      return softmax(logits);
    });
  }
}

export function softmax(logits: Float64Array): Float64Array {
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}
