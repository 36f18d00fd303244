// URL parameters are a boundary like any other: each is validated and a bad one is reported, not ignored.
import { BACKEND_NAMES, type BackendName, isOneOf } from '../../protocol/vocabulary.ts';

export interface UrlOptions {
  backend: BackendName | undefined;
  errors: string[];
}

export function readUrlOptions(search: string): UrlOptions {
  const params = new URLSearchParams(search);
  const errors: string[] = [];
  let backend: BackendName | undefined;
  const raw = params.get('backend');
  if (raw !== null) {
    if (isOneOf(BACKEND_NAMES, raw)) backend = raw;
    else errors.push(`Unknown backend "${raw.slice(0, 40)}" in the address; expected one of ${BACKEND_NAMES.join(', ')}. Using automatic choice.`);
  }
  return { backend, errors };
}

/** The fallback chain, starting at a backend the user forced (forcing a backend also allows a software GPU). */
export function backendChain(forced: BackendName | undefined): BackendName[] {
  // The chooser walks webgpu → webgl → wasm → cpu over the allowed set, so forcing one starts the chain there.
  return forced ? BACKEND_NAMES.slice(BACKEND_NAMES.indexOf(forced)) : [...BACKEND_NAMES];
}

export interface ParamResult<T> {
  value: T | undefined;
  error: string | null;
}

/** A page parameter restricted to known choices; anything else is reported with what was expected. */
export function readChoiceParam<T extends string>(search: string, name: string, choices: readonly T[]): ParamResult<T> {
  const raw = new URLSearchParams(search).get(name);
  if (raw === null) return { value: undefined, error: null };
  if ((choices as readonly string[]).includes(raw)) return { value: raw as T, error: null };
  return { value: undefined, error: `Unknown ${name} "${raw.slice(0, 40)}" in the address; expected one of ${choices.join(', ')}. Showing all.` };
}

/** A positive integer page parameter (a round number, say) no larger than `max`. */
export function readIntParam(search: string, name: string, max: number): ParamResult<number> {
  const raw = new URLSearchParams(search).get(name);
  if (raw === null) return { value: undefined, error: null };
  if (/^[1-9][0-9]{0,8}$/.test(raw) && Number(raw) <= max) return { value: Number(raw), error: null };
  return { value: undefined, error: `The ${name} "${raw.slice(0, 40)}" in the address is not a whole number between 1 and ${max}; ignoring it.` };
}
