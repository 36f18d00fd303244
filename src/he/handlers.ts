// Executes one HeRequest in whatever realm it runs in (browser module worker or Node worker thread) and builds the
// reply. Errors never escape: they become {code, message} so the caller gets a typed HeError back. Registered heads
// and evaluation keys live in per-realm registries so the coordinator loads 7 MB of Galois keys once, not per call.
import { decryptWeightedMean, encryptWeightedContribution } from './aggregate.ts';
import { HeContext } from './context.ts';
import { HeError, toHeError } from './errors.ts';
import {
  InferenceKeys,
  PreparedHead,
  decryptLogits,
  encryptHeadForInference,
  encryptInferenceInput,
  evaluateLinear,
  generateInferenceKeys,
  inferenceLayout,
} from './inference.ts';
import { openKeyFile, sealKeyFile } from './keyfile.ts';
import type { PresetId } from './params.ts';
import { withScope } from './scope.ts';
import { decryptTokenBatch, encryptTokenBatch, generateSecretKey, sumCiphertexts } from './tokens.ts';
import { transferablesOf } from './worker-protocol.ts';
import type { HeMethod, HeReply, HeRequest, HeResult } from './worker-protocol.ts';

export interface HandlerOptions {
  wasmUrl?: string;
}

interface Registered<T> {
  presetId: PresetId;
  federationId: string;
  object: T;
}

const heads = new Map<string, Registered<PreparedHead>>();
const keySets = new Map<string, Registered<InferenceKeys>>();

function release(id: string): void {
  heads.get(id)?.object.dispose();
  keySets.get(id)?.object.dispose();
  heads.delete(id);
  keySets.delete(id);
}

function lookup<T>(registry: Map<string, Registered<T>>, what: string, id: string, presetId: PresetId, federationId: string): T {
  const entry = registry.get(id);
  if (!entry) throw new HeError('bad-argument', `no ${what} registered as '${id}'`);
  if (entry.presetId !== presetId || entry.federationId !== federationId) {
    throw new HeError('mismatch', `${what} '${id}' was registered for ${entry.federationId}/${entry.presetId}`);
  }
  return entry.object;
}

async function run(request: HeRequest, opts: HandlerOptions): Promise<HeResult<HeMethod>> {
  const context = (presetId: PresetId) => HeContext.create(presetId, opts.wasmUrl ? { wasmUrl: opts.wasmUrl } : undefined);
  switch (request.type) {
    case 'generateSecretKey': {
      const { presetId, federationId } = request.args;
      return generateSecretKey(await context(presetId), federationId);
    }
    case 'encryptTokenBatch': {
      const { presetId, secretKey, federationId, tokens } = request.args;
      return encryptTokenBatch(await context(presetId), secretKey, federationId, tokens);
    }
    case 'decryptTokenBatch': {
      const { presetId, secretKey, ciphertexts, tokenCount, dim } = request.args;
      return decryptTokenBatch(await context(presetId), secretKey, ciphertexts, tokenCount, dim);
    }
    case 'sumCiphertexts': {
      const { presetId, federationId, perClinic } = request.args;
      return sumCiphertexts(await context(presetId), federationId, perClinic);
    }
    case 'validateCiphertext': {
      const { presetId, federationId, ciphertext } = request.args;
      const ctx = await context(presetId);
      withScope((scope) => scope.track(ctx.loadCiphertext(ciphertext, federationId, 'the ciphertext')));
      return null;
    }
    case 'sealKeyFile':
      return sealKeyFile(request.args.secretKey, request.args.passphrase);
    case 'openKeyFile':
      return openKeyFile(request.args.file, request.args.passphrase);
    case 'encryptWeightedContribution': {
      const { presetId, secretKey, federationId, values, count, round } = request.args;
      return encryptWeightedContribution(await context(presetId), secretKey, federationId, values, count, round);
    }
    case 'decryptWeightedMean': {
      const { presetId, secretKey, sums, length } = request.args;
      return decryptWeightedMean(await context(presetId), secretKey, sums, length);
    }
    case 'inferenceLayout': {
      const { presetId, mode, classes, dim, ...layoutOpts } = request.args;
      return inferenceLayout(await context(presetId), mode, classes, dim, layoutOpts);
    }
    case 'generateInferenceKeys': {
      const { presetId, secretKey, federationId, layouts, relin } = request.args;
      return generateInferenceKeys(await context(presetId), secretKey, federationId, layouts, { relin });
    }
    case 'encryptInferenceInput': {
      const { presetId, secretKey, federationId, tokens, layout } = request.args;
      return encryptInferenceInput(await context(presetId), secretKey, federationId, tokens, layout);
    }
    case 'encryptHeadForInference': {
      const { presetId, secretKey, federationId, head, layout } = request.args;
      return encryptHeadForInference(await context(presetId), secretKey, federationId, head, layout);
    }
    case 'decryptLogits': {
      const { presetId, secretKey, results, layout, tokenCount } = request.args;
      return decryptLogits(await context(presetId), secretKey, results, layout, tokenCount);
    }
    case 'registerInferenceKeys': {
      const { presetId, federationId, keysId, galoisKeys, relinKeys } = request.args;
      const keys = InferenceKeys.load(await context(presetId), federationId, galoisKeys, relinKeys);
      release(keysId);
      keySets.set(keysId, { presetId, federationId, object: keys });
      return null;
    }
    case 'registerHead': {
      const { presetId, federationId, headId, layout, source } = request.args;
      const ctx = await context(presetId);
      const head = source.encrypted
        ? PreparedHead.encrypted(ctx, federationId, source, layout)
        : PreparedHead.plain(ctx, source.head, layout);
      release(headId);
      heads.set(headId, { presetId, federationId, object: head });
      return null;
    }
    case 'evaluateLinear': {
      const { presetId, federationId, headId, keysId, groups } = request.args;
      const ctx = await context(presetId);
      const head = lookup(heads, 'head', headId, presetId, federationId);
      const keys = lookup(keySets, 'key set', keysId, presetId, federationId);
      return groups.map((group) => evaluateLinear(ctx, federationId, group, head, keys));
    }
    case 'release':
      release(request.args.id);
      return null;
  }
}

/** Runs `request`; returns the reply and the buffers to transfer with it. */
export async function handleHeRequest(
  request: HeRequest,
  opts: HandlerOptions = {},
): Promise<{ reply: HeReply; transfer: ArrayBuffer[] }> {
  try {
    const ok = await run(request, opts);
    return { reply: { id: request.id, type: request.type, ok } as HeReply, transfer: transferablesOf(ok) };
  } catch (e) {
    const error = toHeError(e, request.type);
    const err = { code: error.code, message: error.message };
    return { reply: { id: request.id, type: request.type, err } as HeReply, transfer: [] };
  }
}
