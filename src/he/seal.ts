// Loads the node-seal 7 wasm module once per realm (Node process, worker thread or browser worker). The module is
// isomorphic: in Node the glue finds seal_throws.wasm next to itself; in a Vite bundle the caller passes the
// hashed asset URL (`?url` import) because Vite cannot rewrite node-seal's `new URL(p, import.meta.url)`.
import SEAL from 'node-seal';

export type Seal = Awaited<ReturnType<typeof import('node-seal').default>>;

let loading: Promise<Seal> | undefined;

export function loadSeal(opts?: { wasmUrl?: string }): Promise<Seal> {
  if (!loading) {
    const wasmUrl = opts?.wasmUrl;
    loading = SEAL(wasmUrl ? { locateFile: () => wasmUrl } : {});
    // A failed load (network, CSP) must not poison the realm: the next call retries.
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}
