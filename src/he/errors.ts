// Typed errors for the HE core. node-seal 7 throws WebAssembly.Exception objects whose `message` is a
// [type, what] pair (e.g. ["std::invalid_argument", "scale mismatch"]); String(e) only gives
// "[object WebAssembly.Exception]", so every SEAL call site converts through toHeError.
import { EnvelopeError } from '../protocol/envelope.ts';
import { recoverFromSealException } from './seal.ts';

export type HeErrorCode =
  | 'seal' // SEAL rejected an operation or a serialized object
  | 'bad-argument' // caller passed something malformed (dims, counts, empty lists)
  | 'mismatch' // ciphertexts that cannot be combined (count, level, scale)
  | 'out-of-range' // a value would overflow the preset's headroom
  | 'bad-passphrase'
  | 'bad-keyfile'
  | 'unknown-key' // no key slot has this handle (dropped, or the worker restarted)
  | 'worker' // the worker died or answered nonsense
  | `envelope:${EnvelopeError['code']}`;

export class HeError extends Error {
  readonly code: HeErrorCode;
  constructor(code: HeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeError';
    this.code = code;
  }
}

/** Text of a node-seal C++ exception (after recovering the wasm stack), or undefined if `e` is not one. */
function sealExceptionText(e: unknown): string | undefined {
  // lib.dom's WebAssembly typings predate exception handling, hence the structural lookup.
  const WasmException = (WebAssembly as unknown as { Exception?: abstract new (...args: never[]) => object }).Exception;
  if (typeof WasmException !== 'function' || !(e instanceof WasmException)) return undefined;
  recoverFromSealException(e);
  const message = (e as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join(': ');
  return typeof message === 'string' ? message : 'unknown SEAL exception';
}

/** Converts anything thrown while `doing` something into an HeError with a readable message. */
export function toHeError(e: unknown, doing: string): HeError {
  if (e instanceof HeError) return e;
  if (e instanceof EnvelopeError) return new HeError(`envelope:${e.code}`, `${doing}: ${e.message}`, { cause: e });
  const sealText = sealExceptionText(e);
  if (sealText !== undefined) return new HeError('seal', `${doing}: SEAL ${sealText}`, { cause: e });
  if (e instanceof WebAssembly.RuntimeError) {
    return new HeError('seal', `${doing}: SEAL wasm trapped (${e.message}); this realm's SEAL state may be corrupt`, { cause: e });
  }
  const text = e instanceof Error ? e.message : String(e);
  return new HeError('bad-argument', `${doing}: ${text}`, { cause: e });
}

/** Runs `fn`, converting whatever it throws with toHeError. */
export function heTry<T>(doing: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toHeError(e, doing);
  }
}
