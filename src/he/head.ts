// A linear classifier head (C classes x D features + C biases), the object the federation aggregates and the
// coordinator evaluates on encrypted tokens.
import { HeError } from './errors.ts';

export interface LinearHead {
  classes: number;
  dim: number;
  /** classes x dim, row-major (class c, feature j at c * dim + j). */
  weights: Float32Array | Float64Array;
  biases: Float32Array | Float64Array;
}

export function checkHead(head: LinearHead): void {
  if (head.weights.length !== head.classes * head.dim || head.biases.length !== head.classes) {
    throw new HeError(
      'bad-argument',
      `head ${head.classes}x${head.dim} needs ${head.classes * head.dim} weights and ${head.classes} biases, ` +
        `got ${head.weights.length} and ${head.biases.length}`,
    );
  }
}

/** Flat [weights row-major..., biases...] for aggregation. */
export function packHead(head: LinearHead): Float64Array {
  checkHead(head);
  const flat = new Float64Array(head.weights.length + head.biases.length);
  flat.set(head.weights, 0);
  flat.set(head.biases, head.weights.length);
  return flat;
}

export function unpackHead(flat: Float64Array, classes: number, dim: number): LinearHead {
  if (flat.length !== classes * dim + classes) {
    throw new HeError('bad-argument', `packed ${classes}x${dim} head has ${classes * dim + classes} values, got ${flat.length}`);
  }
  return { classes, dim, weights: flat.slice(0, classes * dim), biases: flat.slice(classes * dim) };
}

