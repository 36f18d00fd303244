import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { SECURITY_HEADERS } from './src/coordinator/plugins/security-headers.ts';

// Pitfalls measured in ../shared/research: node-seal must not be pre-bundled (its wasm is located next to the glue),
// workers must be ES modules (top-level await), and the minifier's compression breaks tfjs's threaded wasm glue.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
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
