// Coordinator configuration: environment variables, overridable by --flags. Safe defaults: loopback only,
// data under ./data, demo federation on an empty data directory.
import { resolve } from 'node:path';

export interface CoordinatorConfig {
  host: string;
  port: number;
  dataDir: string;
  staticDir: string;
  adminToken: string | undefined;
  demo: boolean;
  heWorkers: number;
  logLevel: string;
}

const FLAGS: Record<string, keyof NodeJS.ProcessEnv> = {
  '--host': 'HOST',
  '--port': 'PORT',
  '--data-dir': 'DATA_DIR',
  '--static-dir': 'STATIC_DIR',
  '--demo': 'DEMO',
  '--he-workers': 'HE_WORKERS',
  '--log-level': 'LOG_LEVEL',
};

export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CoordinatorConfig {
  const merged: NodeJS.ProcessEnv = { ...env };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const key = FLAGS[flag];
    if (!key) throw new Error(`unknown option ${flag}; known: ${Object.keys(FLAGS).join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`option ${flag} needs a value`);
    merged[key] = value;
  }
  const port = Number(merged.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer 0..65535, got ${merged.PORT}`);
  const heWorkers = Number(merged.HE_WORKERS ?? 1);
  if (!Number.isInteger(heWorkers) || heWorkers < 1 || heWorkers > 64) throw new Error(`HE_WORKERS must be 1..64, got ${merged.HE_WORKERS}`);
  return {
    host: merged.HOST ?? '127.0.0.1',
    port,
    dataDir: resolve(merged.DATA_DIR ?? 'data'),
    staticDir: resolve(merged.STATIC_DIR ?? 'dist'),
    adminToken: merged.ADMIN_TOKEN || undefined,
    demo: (merged.DEMO ?? 'on') !== 'off',
    heWorkers,
    logLevel: merged.LOG_LEVEL ?? 'info',
  };
}
