import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';

/** Which parts of Atelier this process runs. */
export type ProcessRole = 'all' | 'api' | 'worker';

/** An S3-compatible bucket for artifacts (ATELIER_S3_*). */
export interface S3StorageConfig {
  kind: 's3';
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `endpoint/bucket/key` (MinIO and most self-hosted servers) rather than `bucket.endpoint/key`. */
  forcePathStyle: boolean;
}

/** Where artifacts live: files under `dataDir/artifacts` (default) or an S3-compatible bucket. */
export type StorageConfig = { kind: 'local' } | S3StorageConfig;

/**
 * Which training backend workers run LoRA training with (ATELIER_TRAINER*;
 * docs/training.md, "Choosing the trainer"): the bundled local trainer, kohya_ss
 * sd-scripts' train_network.py, or any command line speaking its flags and output.
 */
export type TrainerConfig =
  | { kind: 'local' }
  | { kind: 'kohya'; cwd: string | null }
  | { kind: 'command'; command: string[]; resumeArgs: string[]; cwd: string | null };

/** Single sign-on with one OpenID Connect provider (ATELIER_OIDC_*); see docs/single-sign-on.md. */
export interface OidcConfig {
  /** Issuer identifier; its `/.well-known/openid-configuration` is read on first use. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Shown on the sign-in page: "Sign in with <name>". */
  name: string;
}

/** How workers treat remote inference backends (ATELIER_BACKEND_*; docs/backends.md, "Resilience"). */
export interface BackendResilienceConfig {
  /** Bound of one HTTP call to a backend, and of silence on a ComfyUI socket mid-run. */
  timeoutMs: number;
  /** Attempts of one job over a model's endpoints before it fails with BACKEND_UNAVAILABLE. */
  attempts: number;
  /** First retry delay (exponential, with jitter, after it). */
  backoffMs: number;
  /** Consecutive transient failures that open an endpoint's breaker. */
  breakerFailures: number;
  /** How long an open breaker waits before a probe may close it. */
  halfOpenAfterMs: number;
  /** How long a job waits in the queue before checking again a backend whose breakers are all open. */
  waitMs: number;
  /** How often a worker probes every endpoint of every enabled remote model; 0 turns probing off. */
  probeEveryMs: number;
}

/** Every setting Atelier reads, parsed and validated once at start. */
export interface AtelierConfig {
  /** `production` hides error details and requires JWT_SECRET. */
  nodeEnv: 'development' | 'production' | 'test';
  role: ProcessRole;
  /** HTTP and WebSocket port. */
  port: number;
  /** Base URL printed at start and used to build signed file URLs. */
  publicUrl: string;
  /** Database, artifacts, models and local Redis files live here. */
  dataDir: string;
  /** PostgreSQL server URL; undefined means embedded PGlite in `dataDir/pglite`. */
  databaseUrl?: string;
  /** Hot statements as named prepared statements on a PostgreSQL server; off behind a pooler that cannot keep them (docs/operations.md). */
  databasePreparedStatements: boolean;
  /** How long the service waits on PostgreSQL: a statement that hears nothing for this long drops its connection (docs/operations.md); 0 means no bound. */
  databaseTimeoutSeconds: number;
  /** Redis URL; undefined means `npm start` launches a local redis-server. */
  redisUrl?: string;
  /** Prefix for every Redis key and BullMQ queue, so test runs and tenants never collide. */
  redisPrefix: string;
  jwtSecret: string;
  jwtTtlSeconds: number;
  adminEmail?: string;
  adminPassword?: string;
  modelsDir: string;
  /** The ffmpeg that encodes VIDEO jobs (ATELIER_FFMPEG_PATH); null: found on the PATH or installed at start (docs/video.md). */
  ffmpegPath: string | null;
  /** Name of the model directory used when a job names none. */
  defaultModel: string;
  executionProviders: string[];
  /** ONNX intra-op threads per session: 1 keeps the API responsive on 2 cores. */
  intraOpThreads: number;
  /**
   * onnxruntime's CPU memory arena: on (default), a model keeps the memory of
   * its largest render until it is unloaded, and large CPU renders run at full
   * speed; off, a render's memory goes back as it ends, at 1.3-2.7x the time of
   * a large CPU render (docs/operations.md, "Memory").
   */
  onnxCpuArena: boolean;
  /** A latent preview rides along every N steps (0 = never). */
  previewEvery: number;
  /** Jobs that run longer than this fail with TIMEOUT. */
  jobTimeoutSeconds: number;
  workerConcurrency: number;
  /** BullMQ lock on a running job: a dead worker's job is picked up again after about this long. */
  workerLockSeconds: number;
  /**
   * How long a worker retries a job's or a run's bookkeeping while PostgreSQL,
   * Redis or the artifact store is unreachable before it puts the entry back
   * in the queue (docs/operations.md, "Outages of PostgreSQL or Redis").
   */
  outageRetrySeconds: number;
  /** The training backend of this process's training worker. */
  trainer: TrainerConfig;
  /** Gradient iterations the local trainer spends encoding each training image to latents (docs/training.md); null: the trainer's default. */
  trainerEncodingIterations: number | null;
  /** Approximate memory for loaded models (LRU). */
  modelCacheBytes: number;
  /** Lifetime of signed `/files/...` URLs. */
  fileUrlTtlSeconds: number;
  /** Origins allowed to call the API from browsers (`*` = any); by default only the service's own (ATELIER_PUBLIC_URL). */
  corsOrigins: string[] | '*';
  /** Sign-up and sign-in attempts per minute per client address (sign-ins also per account). */
  authAttemptsPerMinute: number;
  /** Requests per minute per client address without a valid credential: signed out, or a refused token or key. */
  signedOutRequestsPerMinute: number;
  /** Express `trust proxy`: hops of proxies whose X-Forwarded-For is believed (0 = none). */
  trustProxy: number;
  /** Open graphql-ws connections one user may hold. */
  maxConnectionsPerUser: number;
  /** Signed-out graphql-ws connections one client address may hold on one replica. */
  maxAnonymousConnectionsPerAddress: number;
  /** Open HTTP connections of one API process, WebSockets included; more are closed as they arrive (0 = no cap). */
  maxHttpConnections: number;
  /** Sessions with no activity for this long are archived. */
  sessionIdleDays: number;
  /** Largest upload accepted at POST /uploads. */
  maxUploadBytes: number;
  /** Port of a standalone worker's `/metrics`, `/healthz` and `/readyz` (role `worker` only; 0 = any free port). */
  metricsPort: number;
  /** On SIGTERM, how long in-flight requests and running jobs get to finish before jobs are handed back. */
  shutdownGraceSeconds: number;
  /** OTLP/HTTP collector base URL; tracing is on only when set. */
  otlpEndpoint?: string;
  /** Artifact storage (ATELIER_STORAGE and ATELIER_S3_*). */
  storage: StorageConfig;
  /** First retry delay of a failed webhook delivery; later ones double (tests shorten it). */
  webhookBackoffMs: number;
  /** OpenID Connect sign-in; undefined when ATELIER_OIDC_ISSUER is not set. */
  oidc?: OidcConfig;
  /**
   * How often job rows and queue entries are compared and repaired (once per
   * cluster), and how long a row must be unchanged before it is judged.
   */
  reconcileSeconds: number;
  /** Jobs queued or running across the cluster at once (0 = no cap); submissions past it are refused. */
  maxQueuedJobs: number;
  /** Admins' own rate limits, instead of their tier's. */
  adminRequestsPerMinute: number;
  adminGenerationsPerMinute: number;
  /** Networks (CIDR) webhooks may reach although not public, e.g. `127.0.0.1/32` for a receiver on this machine. */
  webhookAllowedNetworks: string[];
  /** Security audit events older than this are deleted by the hourly housekeeping. */
  auditRetentionDays: number;
  /** Where the audit log stream goes: `stdout`, `stderr` or a file path (appended). */
  auditLog: string;
  /** 32-byte AES-256-GCM key sealing backend credentials (ATELIER_CREDENTIAL_KEY, base64 or hex; docs/security.md). */
  credentialKey: Buffer;
  backends: BackendResilienceConfig;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/** ATELIER_BACKEND_PROBE_MS: 0 (probing off) or 100 ms to 10 minutes. */
function probeInterval(env: Env): number {
  const value = int(env, 'ATELIER_BACKEND_PROBE_MS', 15_000, 0, 600_000);
  if (value > 0 && value < 100) throw new ConfigError(`ATELIER_BACKEND_PROBE_MS must be 0 (off) or between 100 and 600000, got "${value}"`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** A yes-or-no setting: `true`/`1` or `false`/`0`; anything else is refused, naming the variable. */
function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = oneOf(env, name, ['true', 'false', '1', '0'] as const, fallback ? 'true' : 'false');
  return value === 'true' || value === '1';
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}`);
  }
  return raw;
}

/** ATELIER_STORAGE=s3 needs every ATELIER_S3_* setting but region and path style; refuse to start without them. */
function storageConfig(env: Env): StorageConfig {
  if (oneOf(env, 'ATELIER_STORAGE', ['local', 's3'] as const, 'local') === 'local') return { kind: 'local' };
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`${name} is required when ATELIER_STORAGE=s3`);
    return value;
  };
  required('ATELIER_S3_ENDPOINT');
  const bucket = required('ATELIER_S3_BUCKET');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError('ATELIER_S3_BUCKET is not a valid bucket name (3-63 lower-case letters, digits, . or -)');
  return {
    kind: 's3',
    endpoint: url(env, 'ATELIER_S3_ENDPOINT', ['http:', 'https:'])!,
    bucket,
    region: env.ATELIER_S3_REGION || 'us-east-1',
    accessKeyId: required('ATELIER_S3_ACCESS_KEY_ID'),
    secretAccessKey: required('ATELIER_S3_SECRET_ACCESS_KEY'),
    forcePathStyle: flag(env, 'ATELIER_S3_FORCE_PATH_STYLE', true),
  };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * ATELIER_OIDC_ISSUER turns sign-in with OpenID Connect on and needs the
 * client id and secret with it. The issuer must be https, except on loopback
 * (a provider on the developer's machine or in the tests).
 */
function oidcConfig(env: Env): OidcConfig | undefined {
  const issuer = url(env, 'ATELIER_OIDC_ISSUER', ['http:', 'https:']);
  if (!issuer) {
    const stray = ['ATELIER_OIDC_CLIENT_ID', 'ATELIER_OIDC_CLIENT_SECRET', 'ATELIER_OIDC_NAME'].find((name) => env[name]);
    if (stray) throw new ConfigError(`${stray} is set but ATELIER_OIDC_ISSUER is not`);
    return undefined;
  }
  const parsed = new URL(issuer);
  if (parsed.protocol === 'http:' && !LOOPBACK_HOSTS.has(parsed.hostname)) {
    throw new ConfigError('ATELIER_OIDC_ISSUER must use https: (http: only for localhost)');
  }
  if (parsed.search || parsed.hash) throw new ConfigError('ATELIER_OIDC_ISSUER must be the issuer identifier, without query or fragment');
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new ConfigError(`${name} is required when ATELIER_OIDC_ISSUER is set`);
    return value;
  };
  const name = env.ATELIER_OIDC_NAME?.trim() || parsed.hostname;
  if (name.length > 40) throw new ConfigError('ATELIER_OIDC_NAME must be at most 40 characters');
  return { issuer, clientId: required('ATELIER_OIDC_CLIENT_ID'), clientSecret: required('ATELIER_OIDC_CLIENT_SECRET'), name };
}

/** The development secret is generated once per data dir so tokens survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function parseOrigins(raw: string | undefined, own: string): string[] | '*' {
  if (!raw?.trim()) return [own];
  if (raw.trim() === '*') return '*';
  const origins = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(`ATELIER_CORS_ORIGINS: "${origin}" is not an origin like https://app.example.com`);
    }
    if (parsed.origin !== origin) throw new ConfigError(`ATELIER_CORS_ORIGINS: "${origin}" must be an origin (scheme://host[:port]), not a URL`);
  }
  return origins;
}

/** Comma-separated CIDRs or single addresses (`10.1.2.3` means `/32`, `::1` means `/128`). */
function networks(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((n) => n.trim()).filter(Boolean).map((network) => {
    const cidr = network.includes('/') ? network : `${network}/${network.includes(':') ? 128 : 32}`;
    if (!ipaddr.isValidCIDR(cidr)) throw new ConfigError(`ATELIER_WEBHOOK_ALLOWED_NETWORKS: "${network}" is not an address or CIDR like 10.0.0.0/8`);
    return cidr;
  });
}

function auditLogTarget(raw: string | undefined): string {
  const value = raw?.trim() || 'stdout';
  return value === 'stdout' || value === 'stderr' ? value : path.resolve(value);
}

/**
 * The key `npm start` uses when ATELIER_CREDENTIAL_KEY is not set. It is public
 * (it is in this file), so it only keeps credentials out of plain sight in a
 * development database; production never uses it.
 */
const DEVELOPMENT_CREDENTIAL_KEY = Buffer.from('YXRlbGllci1kZXZlbG9wbWVudC1jcmVkZW50aWFsLWs=', 'base64');

/**
 * ATELIER_CREDENTIAL_KEY, else (production) a key derived from JWT_SECRET with
 * HKDF, so a deployment that predates the setting keeps starting and its
 * credentials are still sealed with a secret; else the development key.
 */
function credentialKey(env: Env, nodeEnv: AtelierConfig['nodeEnv'], jwtSecret: string): Buffer {
  const raw = env.ATELIER_CREDENTIAL_KEY?.trim();
  if (!raw) {
    if (nodeEnv !== 'production') return DEVELOPMENT_CREDENTIAL_KEY;
    return Buffer.from(hkdfSync('sha256', jwtSecret, 'atelier', 'backend credentials', 32));
  }
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError('ATELIER_CREDENTIAL_KEY must be 32 bytes, written as 64 hex digits or base64 (openssl rand -base64 32)');
  return key;
}

/** A JSON array of strings (a command line's words), or ConfigError naming the variable. */
function stringArray(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string')) {
    throw new ConfigError(`${name} must be a JSON array of strings, like ["python","train_network.py","--output_dir","{output_dir}"]`);
  }
  return parsed;
}

function trainerConfig(env: Env): TrainerConfig {
  const kind = oneOf(env, 'ATELIER_TRAINER', ['local', 'kohya', 'command'] as const, 'local');
  const cwd = env.ATELIER_TRAINER_DIR ? path.resolve(env.ATELIER_TRAINER_DIR) : null;
  const command = stringArray(env, 'ATELIER_TRAINER_COMMAND');
  if (kind !== 'command' && command) throw new ConfigError('ATELIER_TRAINER_COMMAND is set but ATELIER_TRAINER is not "command"');
  if (kind === 'local') return { kind };
  if (kind === 'kohya') return { kind, cwd };
  if (!command?.length) throw new ConfigError('ATELIER_TRAINER_COMMAND is required when ATELIER_TRAINER=command');
  return { kind, command, resumeArgs: stringArray(env, 'ATELIER_TRAINER_RESUME_ARGS') ?? ['--resume', '{resume_dir}'], cwd };
}

/** Parses and validates the environment; throws ConfigError on the first bad value. */
export function loadConfig(env: Env = process.env): AtelierConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const dataDir = path.resolve(env.ATELIER_DATA_DIR || './data');
  const port = int(env, 'PORT', 4000, 0, 65535);
  let jwtSecret = env.JWT_SECRET;
  if (!jwtSecret) {
    if (nodeEnv === 'production') throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
    jwtSecret = developmentSecret(dataDir);
  } else if (jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters');
  }
  const adminEmail = env.ATELIER_ADMIN_EMAIL || undefined;
  const adminPassword = env.ATELIER_ADMIN_PASSWORD || undefined;
  if (Boolean(adminEmail) !== Boolean(adminPassword)) {
    throw new ConfigError('ATELIER_ADMIN_EMAIL and ATELIER_ADMIN_PASSWORD must be set together');
  }
  const providers = (env.ATELIER_EXECUTION_PROVIDERS || 'cuda,cpu')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  if (providers.length === 0) throw new ConfigError('ATELIER_EXECUTION_PROVIDERS is empty');
  const prefix = env.ATELIER_REDIS_PREFIX || 'atl';
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(prefix)) throw new ConfigError('ATELIER_REDIS_PREFIX must be 1-40 letters, digits, _ or -');

  const publicUrl = (url(env, 'ATELIER_PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/$/, '');

  return {
    nodeEnv,
    role: oneOf(env, 'ATELIER_ROLE', ['all', 'api', 'worker'] as const, 'all'),
    port,
    publicUrl,
    dataDir,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePreparedStatements: flag(env, 'ATELIER_DATABASE_PREPARED_STATEMENTS', true),
    databaseTimeoutSeconds: int(env, 'ATELIER_DATABASE_TIMEOUT_SECONDS', 30, 0, 3600),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: prefix,
    jwtSecret,
    jwtTtlSeconds: int(env, 'JWT_TTL_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    adminEmail,
    adminPassword,
    modelsDir: path.resolve(env.ATELIER_MODELS_DIR || path.join(dataDir, 'models')),
    ffmpegPath: env.ATELIER_FFMPEG_PATH || null,
    defaultModel: env.ATELIER_DEFAULT_MODEL || 'atelier-tiny',
    executionProviders: providers,
    intraOpThreads: int(env, 'ATELIER_INTRA_OP_THREADS', 1, 1, 256),
    onnxCpuArena: flag(env, 'ATELIER_ONNX_CPU_ARENA', true),
    previewEvery: int(env, 'ATELIER_PREVIEW_EVERY', 4, 0, 1000),
    jobTimeoutSeconds: int(env, 'ATELIER_JOB_TIMEOUT_SECONDS', 600, 1, 24 * 3600),
    workerConcurrency: int(env, 'ATELIER_WORKER_CONCURRENCY', 1, 1, 64),
    workerLockSeconds: int(env, 'ATELIER_WORKER_LOCK_SECONDS', 30, 2, 3600),
    outageRetrySeconds: int(env, 'ATELIER_OUTAGE_RETRY_SECONDS', 60, 1, 3600),
    trainer: trainerConfig(env),
    trainerEncodingIterations: env.ATELIER_TRAINER_ENCODING_ITERATIONS ? int(env, 'ATELIER_TRAINER_ENCODING_ITERATIONS', 100, 1, 100_000) : null,
    modelCacheBytes: int(env, 'ATELIER_MODEL_CACHE_MB', 4096, 1, 1024 * 1024) * 1024 * 1024,
    fileUrlTtlSeconds: int(env, 'ATELIER_FILE_URL_TTL_SECONDS', 3600, 10, 7 * 24 * 3600),
    corsOrigins: parseOrigins(env.ATELIER_CORS_ORIGINS, new URL(publicUrl).origin),
    authAttemptsPerMinute: int(env, 'ATELIER_AUTH_ATTEMPTS_PER_MINUTE', 30, 1, 100_000),
    signedOutRequestsPerMinute: int(env, 'ATELIER_SIGNED_OUT_REQUESTS_PER_MINUTE', 300, 1, 10_000_000),
    trustProxy: int(env, 'ATELIER_TRUST_PROXY', 0, 0, 10),
    maxConnectionsPerUser: int(env, 'ATELIER_MAX_CONNECTIONS_PER_USER', 20, 1, 10000),
    maxAnonymousConnectionsPerAddress: int(env, 'ATELIER_MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS', 20, 1, 10000),
    maxHttpConnections: int(env, 'ATELIER_MAX_HTTP_CONNECTIONS', 15_000, 0, 1_000_000),
    sessionIdleDays: int(env, 'ATELIER_SESSION_IDLE_DAYS', 30, 1, 3650),
    maxUploadBytes: int(env, 'ATELIER_MAX_UPLOAD_MB', 256, 1, 10240) * 1024 * 1024,
    metricsPort: int(env, 'ATELIER_METRICS_PORT', 9464, 0, 65535),
    shutdownGraceSeconds: int(env, 'ATELIER_SHUTDOWN_GRACE_SECONDS', 30, 0, 3600),
    otlpEndpoint: url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']),
    storage: storageConfig(env),
    webhookBackoffMs: int(env, 'ATELIER_WEBHOOK_BACKOFF_MS', 30_000, 10, 3600_000),
    oidc: oidcConfig(env),
    reconcileSeconds: int(env, 'ATELIER_RECONCILE_SECONDS', 30, 1, 3600),
    maxQueuedJobs: int(env, 'ATELIER_MAX_QUEUED_JOBS', 10_000, 0, 10_000_000),
    adminRequestsPerMinute: int(env, 'ATELIER_ADMIN_REQUESTS_PER_MINUTE', 10_000, 1, 10_000_000),
    adminGenerationsPerMinute: int(env, 'ATELIER_ADMIN_GENERATIONS_PER_MINUTE', 1000, 1, 1_000_000),
    webhookAllowedNetworks: networks(env.ATELIER_WEBHOOK_ALLOWED_NETWORKS),
    auditRetentionDays: int(env, 'ATELIER_AUDIT_RETENTION_DAYS', 365, 1, 36500),
    auditLog: auditLogTarget(env.ATELIER_AUDIT_LOG),
    credentialKey: credentialKey(env, nodeEnv, jwtSecret),
    backends: {
      timeoutMs: int(env, 'ATELIER_BACKEND_TIMEOUT_MS', 120_000, 100, 3600_000),
      attempts: int(env, 'ATELIER_BACKEND_ATTEMPTS', 4, 1, 20),
      backoffMs: int(env, 'ATELIER_BACKEND_BACKOFF_MS', 500, 1, 60_000),
      breakerFailures: int(env, 'ATELIER_BACKEND_BREAKER_FAILURES', 3, 1, 100),
      halfOpenAfterMs: int(env, 'ATELIER_BACKEND_HALF_OPEN_MS', 10_000, 100, 3600_000),
      waitMs: int(env, 'ATELIER_BACKEND_WAIT_MS', 2000, 100, 600_000),
      probeEveryMs: probeInterval(env),
    },
  };
}
