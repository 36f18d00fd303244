// Loads the node-seal 7 wasm module once per realm (Node process, worker thread or browser worker). The module is
// isomorphic: in Node the wasm file is read next to node-seal's glue; in a Vite bundle the caller passes the hashed
// asset URL (`?url` import) because Vite cannot rewrite node-seal's `new URL(p, import.meta.url)`.
//
// Why we instantiate the wasm ourselves: when a C++ exception leaves SEAL and is caught in JS, the wasm shadow-stack
// pointer is not unwound (each failed load leaks a few KB of the 64 KB stack; after ~1,900 rejected ciphertexts the
// stack runs into the heap and SEAL dies with "null function or function signature mismatch"). node-seal does not
// export stackRestore, so we keep the instance's exports and reset the stack pointer to its idle value after every
// SEAL exception (see recoverFromSealException; all SEAL calls here are synchronous and top-level, so no wasm frame is
// live when JS catches). The export names are those of node-seal 7.0.0's minified glue (package pinned; checked at
// load time).
import SEAL from 'node-seal';

export type Seal = Awaited<ReturnType<typeof import('node-seal').default>>;

/** Minified export names in node-seal 7.0.0's seal_throws.js (assignWasmExports). */
const STACK_RESTORE_EXPORT = 'Z';
const STACK_CURRENT_EXPORT = '$';

interface StackControl {
  idle: number;
  restore: (sp: number) => void;
}

interface SealRealm {
  seal: Seal;
  stack: StackControl;
  memory: WebAssembly.Memory;
}

let loading: Promise<SealRealm> | undefined;
let realm: SealRealm | undefined;

async function wasmBytes(url: string): Promise<BufferSource> {
  if (url.startsWith('file:')) {
    const fsModule = 'node:fs/promises'; // variable specifier: bundlers must not pull node:fs into the browser build
    const { readFile } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
    return new Uint8Array(await readFile(new URL(url)));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

async function load(wasmUrl: string | undefined): Promise<SealRealm> {
  const url = wasmUrl ?? new URL('seal_throws.wasm', import.meta.resolve('node-seal')).href;
  let exports: WebAssembly.Exports | undefined;
  const seal = await SEAL({
    locateFile: () => url,
    instantiateWasm(
      imports: WebAssembly.Imports,
      receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ): object {
      void wasmBytes(url)
        .then((bytes) => WebAssembly.instantiate(bytes, imports))
        .then(({ instance, module }) => {
          exports = instance.exports;
          receive(instance, module);
        });
      return {};
    },
  });
  const restore = exports?.[STACK_RESTORE_EXPORT];
  const current = exports?.[STACK_CURRENT_EXPORT];
  if (typeof restore !== 'function' || typeof current !== 'function') {
    throw new Error('node-seal wasm exports changed: cannot find the stack pointer helpers (expected node-seal 7.0.0)');
  }
  const memory = Object.values(exports ?? {}).find((x) => x instanceof WebAssembly.Memory);
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('node-seal wasm exports no memory');
  const stack = { idle: (current as () => number)(), restore: restore as (sp: number) => void };
  return { seal, stack, memory };
}

export function loadSeal(opts?: { wasmUrl?: string }): Promise<Seal> {
  if (!loading) {
    loading = load(opts?.wasmUrl);
    loading.then(
      (r) => (realm = r),
      () => (loading = undefined), // a failed load (network, CSP) must not poison the realm: the next call retries
    );
  }
  return loading.then((r) => r.seal);
}

/** Current size of the SEAL wasm heap in bytes (it only grows), or 0 before loadSeal resolves. */
export function sealHeapBytes(): number {
  return realm?.memory.buffer.byteLength ?? 0;
}

/**
 * Call once for every C++ exception caught from SEAL: resets the wasm stack pointer to its idle value and frees the
 * exception object (otherwise ~250 B leak per exception).
 */
export function recoverFromSealException(e: object): void {
  if (!realm) return;
  realm.stack.restore(realm.stack.idle);
  try {
    (realm.seal as unknown as { decrementExceptionRefcount(e: object): void }).decrementExceptionRefcount(e);
  } catch {
    // not a C++ exception object (e.g. a JS error from embind argument checks): nothing to free
  }
}
