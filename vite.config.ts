import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { SECURITY_HEADERS } from './src/coordinator/plugins/security-headers.ts';

const require = createRequire(import.meta.url);

/**
 * tfjs-backend-wasm's threaded build starts its pthreads from blob: URLs (the pthread worker script and the Emscripten
 * glue it imports), which the CSP's `worker-src 'self'` / `script-src 'self'` rightly refuse, so setBackend('wasm')
 * hung. This emits both as same-origin files and points tfjs at them. It throws when tfjs's code no longer has the
 * shape it rewrites, so a tfjs upgrade cannot silently fall back to blob: URLs.
 */
function tfjsWasmThreadsSameOrigin(): Plugin {
  const blobWorker = /const blob = new Blob\(\[response\], \{ type: 'application\/javascript' \}\);\s*return URL\.createObjectURL\(blob\);/;
  const blobMainScript = /new Blob\(\[`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)\], \{ type: 'text\/javascript' \}\)/;
  return {
    name: 'tfjs-wasm-threads-same-origin',
    apply: 'build',
    transform(code, id) {
      if (!id.replaceAll('\\', '/').endsWith('@tensorflow/tfjs-backend-wasm/dist/backend_wasm.js')) return null;
      if (!blobWorker.test(code) || !blobMainScript.test(code)) throw new Error('tfjs-backend-wasm changed: update tfjsWasmThreadsSameOrigin in vite.config.ts');
      const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
      const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
      // tfjs escapes newlines the same way before it makes its blob (the contents hold string literals with \n).
      const workerRef = this.emitFile({ type: 'asset', name: 'tfjs-wasm-pthread.worker.js', source: wasmWorkerContents.replace(/\n/g, '\\n') });
      const glueRef = this.emitFile({ type: 'asset', name: 'tfjs-wasm-threaded-simd.js', source: readFileSync(glue, 'utf8') });
      return code
        .replace(blobWorker, `return import.meta.ROLLUP_FILE_URL_${workerRef};`)
        .replace(blobMainScript, `import.meta.ROLLUP_FILE_URL_${glueRef}`);
    },
  };
}

// Pitfalls measured in ../shared/research: node-seal must not be pre-bundled (its wasm is located next to the glue),
// workers must be ES modules (top-level await), and the minifier's compression breaks tfjs's threaded wasm glue.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es', plugins: () => [tfjsWasmThreadsSameOrigin()] },
  optimizeDeps: { exclude: ['node-seal'] },
  build: {
    target: 'es2024',
    minify: false,
    chunkSizeWarningLimit: 8000,
    sourcemap: false,
  },
  server: {
    headers: SECURITY_HEADERS,
    proxy: { '/api': 'http://localhost:8080', '/healthz': 'http://localhost:8080' },
  },
});
