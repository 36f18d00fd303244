import { defineConfig } from '@playwright/test';

// e2e runs the real coordinator (fresh data directory each run) serving the built SPA, and Debian's Chromium.
// Never `playwright install`: the system browser is used. SwiftShader provides WebGPU headless with the unsafe flag.
const PORT = Number(process.env.E2E_PORT ?? 8191);
export const E2E_ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const baseArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

export default defineConfig({
  testDir: 'e2e',
  timeout: 240_000,
  expect: { timeout: 60_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  },
  // Demo mode on: the app's three-clinic demo (e2e/app-demo.spec.ts) asks POST /api/demo/federations for a federation.
  webServer: {
    command: `rm -rf .e2e-data/${PORT} && node src/coordinator/main.ts --port ${PORT} --data-dir .e2e-data/${PORT} --demo on --log-level warn`,
    url: `http://localhost:${PORT}/healthz`,
    env: { ADMIN_TOKEN: E2E_ADMIN_TOKEN },
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
  },
  projects: [
    {
      name: 'webgpu',
      testIgnore: /fallback\.spec\.ts/,
      use: { launchOptions: { executablePath: chromium, args: [...baseArgs, '--enable-unsafe-webgpu'] } },
    },
    {
      name: 'no-webgpu',
      testMatch: /fallback\.spec\.ts/,
      use: { launchOptions: { executablePath: chromium, args: [...baseArgs, '--disable-webgpu'] } },
    },
  ],
});
