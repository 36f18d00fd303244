// URL parameters are a boundary like any other: each is validated and a bad one is reported, not ignored.
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

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
    if ((BACKENDS as readonly string[]).includes(raw)) backend = raw as BackendName;
    else errors.push(`Unknown backend "${raw.slice(0, 40)}" in the address; expected one of ${BACKENDS.join(', ')}. Using automatic choice.`);
  }
  return { backend, errors };
}

/** The fallback chain, starting at a backend the user forced (forcing a backend also allows a software GPU). */
export function backendChain(forced: BackendName | undefined): BackendName[] {
  if (!forced) return [...BACKENDS];
  return [forced, ...BACKENDS.filter((b) => b !== forced)];
}
