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
  rateLimitPerSecond: number;
  rateLimitBurst: number;
}

const FLAGS: Record<string, keyof NodeJS.ProcessEnv> = {
  '--host': 'HOST',
  '--port': 'PORT',
  '--data-dir': 'DATA_DIR',
  '--static-dir': 'STATIC_DIR',
  '--demo': 'DEMO',
  '--he-workers': 'HE_WORKERS',
  '--log-level': 'LOG_LEVEL',
  '--rate-limit': 'RATE_LIMIT_PER_SECOND',
};

function positive(name: string, raw: string | undefined, fallback: number, max: number): number {
  const value = Number(raw ?? fallback);
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`${name} must be a number in (0, ${max}], got ${raw}`);
  return value;
}

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
  const heWorkers = Math.floor(positive('HE_WORKERS', merged.HE_WORKERS, 1, 64));
  const rateLimitPerSecond = positive('RATE_LIMIT_PER_SECOND', merged.RATE_LIMIT_PER_SECOND, 20, 1e6);
  return {
    host: merged.HOST ?? '127.0.0.1',
    port,
    dataDir: resolve(merged.DATA_DIR ?? 'data'),
    staticDir: resolve(merged.STATIC_DIR ?? 'dist'),
    adminToken: merged.ADMIN_TOKEN || undefined,
    demo: (merged.DEMO ?? 'on') !== 'off',
    heWorkers,
    logLevel: merged.LOG_LEVEL ?? 'info',
    rateLimitPerSecond,
    rateLimitBurst: Math.max(10, rateLimitPerSecond * 3),
  };
}
