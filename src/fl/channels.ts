// How a round's contributions get summed, per domain. A SumChannel takes each present clinic's flat contribution
// and returns the element-wise sum as every clinic ends up holding it, with the bytes each clinic sent and received
// and the time of each phase:
// - PlainChannel (`unencrypted`): float64 vectors added in clear (bytes: 8 per value, what sending them costs);
// - EncryptedChannel (`encrypted`, `gradient-encryption`): each vector is packed 4,096 values per agg-v1 ciphertext
//   (seeded symmetric, src/he/tokens.ts encryptSlots) at the round's scale (src/he/aggregate.ts
//   aggregationScaleBits), a CiphertextTransport adds them (the real coordinator, or sumCiphertexts in-process), and
//   the clinics decrypt the downloaded sum. For gradient-encryption, `accountedCiphertexts` more ciphertexts per
//   clinic are counted at the measured bytes per ciphertext but not sent (see README: the frozen-backbone simulation
//   has no transformer-block update to send).
import type { AggregationRound } from '../he/aggregate.ts';
import { aggregationScaleBits } from '../he/aggregate.ts';
import type { HeContext } from '../he/context.ts';
import { decryptSlots, encryptSlots, sumCiphertexts } from '../he/tokens.ts';
import { decodeBundle, encodeBundle } from '../protocol/bundle.ts';

export type DomainName = 'unencrypted' | 'encrypted' | 'gradient-encryption';
export const DOMAIN_NAMES: readonly DomainName[] = ['unencrypted', 'encrypted', 'gradient-encryption'];

/** Milliseconds per phase of one round's exchange (client phases: mean per present clinic). */
export interface ExchangeTimes {
  encryptMs: number;
  uploadMs: number;
  aggregateMs: number;
  downloadMs: number;
  decryptMs: number;
}

export interface ChannelRound {
  sum: Float64Array;
  /** Mean over the present clinics of the bytes each sent. */
  bytesUpPerClinic: number;
  /** Bytes each clinic receives (the same aggregate for all). */
  bytesDownPerClinic: number;
  /** Ciphertexts each clinic sends (0 in clear), accounted ones included. */
  ciphertextsPerClinic: number;
  times: ExchangeTimes;
}

export interface SumChannel {
  readonly domain: DomainName;
  /** Sums the contributions (clinic index to vector, all of one length) of one round (1-based). */
  sum(round: number, contributions: ReadonlyMap<number, Float64Array>, bounds: Required<AggregationRound>): Promise<ChannelRound>;
}

const FLOAT64_BYTES = 8;

function vectorLength(contributions: ReadonlyMap<number, Float64Array>): number {
  const lengths = new Set([...contributions.values()].map((v) => v.length));
  if (contributions.size === 0) throw new Error('sum: no clinic contributed to this round');
  if (lengths.size !== 1) throw new Error(`sum: contributions differ in length (${[...lengths].join(', ')})`);
  return [...lengths][0] as number;
}

export class PlainChannel implements SumChannel {
  readonly domain = 'unencrypted';

  async sum(_round: number, contributions: ReadonlyMap<number, Float64Array>): Promise<ChannelRound> {
    const length = vectorLength(contributions);
    const started = performance.now();
    const sum = new Float64Array(length);
    for (const values of contributions.values()) for (let k = 0; k < length; k++) sum[k] = (sum[k] as number) + (values[k] as number);
    const bytes = length * FLOAT64_BYTES;
    return {
      sum,
      bytesUpPerClinic: bytes,
      bytesDownPerClinic: bytes,
      ciphertextsPerClinic: 0,
      times: { encryptMs: 0, uploadMs: 0, aggregateMs: performance.now() - started, downloadMs: 0, decryptMs: 0 },
    };
  }
}

/** What an aggregator does with one round's ciphertext bundles. */
export interface TransportRound {
  /** The aggregate bundle every clinic downloaded (byte-identical for all). */
  aggregate: Uint8Array;
  /** Clinics that downloaded it. */
  downloads: number;
  uploadMs: number;
  aggregateMs: number;
  downloadMs: number;
}

export interface CiphertextTransport {
  exchange(round: number, uploads: ReadonlyMap<number, Uint8Array>): Promise<TransportRound>;
}

/** Adds the bundles with the HE core directly (the coordinator's sum, without HTTP): for the maths tests. */
export class InProcessTransport implements CiphertextTransport {
  readonly #ctx: HeContext;
  readonly #federationId: string;

  constructor(ctx: HeContext, federationId: string) {
    this.#ctx = ctx;
    this.#federationId = federationId;
  }

  async exchange(_round: number, uploads: ReadonlyMap<number, Uint8Array>): Promise<TransportRound> {
    const started = performance.now();
    const perClinic = [...uploads.values()].map((bundle) => decodeBundle(bundle));
    const aggregate = encodeBundle(await sumCiphertexts(this.#ctx, this.#federationId, perClinic));
    return { aggregate, downloads: 1, uploadMs: 0, aggregateMs: performance.now() - started, downloadMs: 0 };
  }
}

export interface EncryptedChannelOptions {
  ctx: HeContext;
  secretKey: Uint8Array;
  federationId: string;
  transport: CiphertextTransport;
  domain?: 'encrypted' | 'gradient-encryption';
  /** Ciphertexts per clinic counted in the bytes but not sent (gradient-encryption's transformer block). */
  accountedCiphertexts?: number;
}

export class EncryptedChannel implements SumChannel {
  readonly domain: 'encrypted' | 'gradient-encryption';
  readonly #opts: EncryptedChannelOptions;

  constructor(opts: EncryptedChannelOptions) {
    this.#opts = opts;
    this.domain = opts.domain ?? 'encrypted';
  }

  async sum(round: number, contributions: ReadonlyMap<number, Float64Array>, bounds: Required<AggregationRound>): Promise<ChannelRound> {
    const { ctx, secretKey, federationId, transport } = this.#opts;
    const length = vectorLength(contributions);
    const slots = ctx.slotCount;
    const scale = 2 ** aggregationScaleBits(ctx, bounds);
    const limit = bounds.maxCount * bounds.maxAbsValue;

    const started = performance.now();
    const uploads = new Map<number, Uint8Array>();
    for (const [clinic, values] of contributions) {
      const parts: Uint8Array[] = [];
      for (let start = 0; start < length; start += slots) {
        const chunk = new Float64Array(slots);
        chunk.set(values.subarray(start, Math.min(length, start + slots)));
        for (let k = 0; k < chunk.length; k++) {
          if (!(Math.abs(chunk[k] as number) <= limit)) {
            throw new Error(
              `clinic ${clinic} round ${round}: value ${start + k} is ${chunk[k]}; the round's bounds allow |value| <= ` +
                `${bounds.maxCount} x ${bounds.maxAbsValue} (out of range for the CKKS scale)`,
            );
          }
        }
        parts.push(encryptSlots(ctx, secretKey, federationId, chunk, scale));
      }
      uploads.set(clinic, encodeBundle(parts));
    }
    const encryptMs = (performance.now() - started) / contributions.size;

    const exchanged = await transport.exchange(round, uploads);

    const decryptStarted = performance.now();
    const parts = decodeBundle(exchanged.aggregate);
    const sent = Math.ceil(length / slots);
    if (parts.length !== sent) throw new Error(`round ${round}: the aggregate has ${parts.length} ciphertexts, the clinics sent ${sent}`);
    const sum = new Float64Array(length);
    parts.forEach((bytes, i) => {
      const decoded = decryptSlots(ctx, secretKey, bytes, `round ${round} aggregate ciphertext ${i}`);
      sum.set(decoded.subarray(0, Math.min(slots, length - i * slots)), i * slots);
    });
    const decryptMs = performance.now() - decryptStarted;

    const extra = this.#opts.accountedCiphertexts ?? 0;
    const up = [...uploads.values()].reduce((n, b) => n + b.byteLength, 0) / uploads.size;
    return {
      sum,
      bytesUpPerClinic: Math.round(up * (1 + extra / sent)),
      bytesDownPerClinic: Math.round(exchanged.aggregate.byteLength * (1 + extra / sent)),
      ciphertextsPerClinic: sent + extra,
      times: {
        encryptMs,
        uploadMs: exchanged.uploadMs / uploads.size,
        aggregateMs: exchanged.aggregateMs,
        downloadMs: exchanged.downloadMs / Math.max(1, exchanged.downloads),
        decryptMs,
      },
    };
  }
}
