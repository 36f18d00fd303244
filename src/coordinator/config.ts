// Coordinator configuration: environment variables, overridable by --flags (node:util parseArgs). Safe defaults:
// loopback only, data under ./data, no trusted proxy, demo federation on an empty data directory.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TOKEN_PATTERN } from './security.ts';

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
  /** Seconds an idle keep-alive connection stays open (Fastify's 72 by default); a proxy in front must idle out sooner. */
  keepAliveSeconds: number;
  /** Fastify's trustProxy: false, true, or a comma-separated list of the proxies' addresses/CIDRs. */
  trustProxy: boolean | string;
  /** Demo federations one address may create per hour; live demo federations at most; hours before one is deleted. */
  demoPerAddressPerHour: number;
  demoMaxLive: number;
  demoHours: number;
  /** Days a clinic token stays valid. */
  tokenDays: number;
  /** Keep the uploads of closed rounds (default: deleted once their aggregate is stored). */
  retainUploads: boolean;
  /** Blob storage quota in bytes (0: the disk is the limit). */
  blobQuotaBytes: number;
  /** postgres://… for shared state across replicas; undefined: the embedded node:sqlite store. */
  databaseUrl: string | undefined;
  /** Where ciphertext blobs live: the data directory, Postgres bytea rows, or s3://bucket[/prefix]. */
  blobStore: 'fs' | 'postgres' | `s3://${string}`;
  /** An S3-compatible endpoint (for non-AWS object storage); credentials come from the usual AWS_* variables. */
  s3Endpoint: string | undefined;
  /** The pg-boss job queue (DATABASE_URL only); the same on every replica, since they are the queues' settings. */
  jobs: { heartbeatSeconds: number; retryLimit: number; retryDelaySeconds: number };
}

/** Each flag and the environment variable it overrides. */
const FLAGS = {
  host: 'HOST',
  port: 'PORT',
  'data-dir': 'DATA_DIR',
  'static-dir': 'STATIC_DIR',
  demo: 'DEMO',
  'he-workers': 'HE_WORKERS',
  'log-level': 'LOG_LEVEL',
  'rate-limit': 'RATE_LIMIT_PER_SECOND',
  'trust-proxy': 'TRUST_PROXY',
  'database-url': 'DATABASE_URL',
  'blob-store': 'BLOB_STORE',
} as const;

function positive(name: string, raw: string | undefined, fallback: number, max: number): number {
  const value = Number(raw ?? fallback);
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`${name} must be a number in (0, ${max}], got ${raw}`);
  return value;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  const value = Number(raw ?? fallback);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${raw}`);
  return value;
}

function blobStore(raw: string | undefined, databaseUrl: string | undefined): CoordinatorConfig['blobStore'] {
  if (raw === undefined || raw === '' || raw === 'fs') return 'fs';
  if (raw === 'postgres') {
    if (!databaseUrl) throw new Error('BLOB_STORE=postgres keeps blobs in the database: set DATABASE_URL=postgres://… too');
    return raw;
  }
  if (raw.startsWith('s3://')) return raw as `s3://${string}`;
  throw new Error(`BLOB_STORE must be fs, postgres or s3://bucket[/prefix], got ${raw}`);
}

function databaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new Error('DATABASE_URL must be a postgres:// or postgresql:// connection string');
  return raw;
}

function trustProxy(raw: string | undefined): boolean | string {
  if (raw === undefined || raw === '' || raw === 'false' || raw === 'off') return false;
  if (raw === 'true' || raw === 'on') return true;
  if (!/^[0-9a-fA-F:.,/ ]+$/.test(raw)) throw new Error(`TRUST_PROXY must be off, on, or a comma-separated list of the proxies' addresses, got ${raw}`);
  return raw;
}

export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CoordinatorConfig {
  let values: Partial<Record<keyof typeof FLAGS, string>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<keyof typeof FLAGS, { type: 'string' }>,
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new Error(`${(e as Error).message}; known options: ${Object.keys(FLAGS).map((f) => `--${f}`).join(', ')}`, { cause: e });
  }
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [flag, key] of Object.entries(FLAGS)) {
    const value = values[flag as keyof typeof FLAGS];
    if (value !== undefined) merged[key] = value;
  }
  if (merged.ADMIN_TOKEN && !TOKEN_PATTERN.test(merged.ADMIN_TOKEN)) {
    throw new Error(`ADMIN_TOKEN must be 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-' (got ${merged.ADMIN_TOKEN.length} characters${/[+/=]/.test(merged.ADMIN_TOKEN) ? ' with base64 +/= characters; use base64url' : ''}); no bearer header could ever carry it`);
  }
  const port = Number(merged.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer 0..65535, got ${merged.PORT}`);
  const heWorkers = Math.floor(positive('HE_WORKERS', merged.HE_WORKERS, 1, 64));
  const rateLimitPerSecond = positive('RATE_LIMIT_PER_SECOND', merged.RATE_LIMIT_PER_SECOND, 20, 1e6);
  const database = databaseUrl(merged.DATABASE_URL);
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
    keepAliveSeconds: positive('KEEP_ALIVE_SECONDS', merged.KEEP_ALIVE_SECONDS, 72, 3600),
    trustProxy: trustProxy(merged.TRUST_PROXY),
    demoPerAddressPerHour: Math.floor(positive('DEMO_PER_ADDRESS_PER_HOUR', merged.DEMO_PER_ADDRESS_PER_HOUR, 20, 1e6)),
    demoMaxLive: Math.floor(positive('DEMO_MAX_LIVE', merged.DEMO_MAX_LIVE, 50, 1e6)),
    demoHours: positive('DEMO_HOURS', merged.DEMO_HOURS, 24, 24 * 365),
    tokenDays: positive('TOKEN_DAYS', merged.TOKEN_DAYS, 90, 3650),
    retainUploads: merged.RETAIN_UPLOADS === 'on',
    blobQuotaBytes: merged.BLOB_QUOTA_BYTES ? Math.floor(positive('BLOB_QUOTA_BYTES', merged.BLOB_QUOTA_BYTES, 0, 2 ** 50)) : 0,
    databaseUrl: database,
    blobStore: blobStore(merged.BLOB_STORE, database),
    s3Endpoint: merged.S3_ENDPOINT || undefined,
    jobs: {
      // pg-boss refuses heartbeats under 10 s.
      heartbeatSeconds: integer('JOB_HEARTBEAT_SECONDS', merged.JOB_HEARTBEAT_SECONDS, 15, 10, 3600),
      retryLimit: integer('JOB_RETRY_LIMIT', merged.JOB_RETRY_LIMIT, 5, 0, 100),
      retryDelaySeconds: integer('JOB_RETRY_DELAY_SECONDS', merged.JOB_RETRY_DELAY_SECONDS, 5, 0, 3600),
    },
  };
}
