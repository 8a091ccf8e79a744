// Reads the environment once into a typed, validated, frozen object.
// Nothing else in the code reads process.env: every module receives the Config.
import path from 'node:path';

export const DEV_JWT_SECRET = 'auralink-dev-jwt-secret-change-me-0123456789abcdef';
export const DEV_LIVEKIT_API_KEY = 'devkey';
// The key pair `livekit-server --dev` runs with, so a local LiveKit works with no settings.
export const DEV_LIVEKIT_API_SECRET = 'secret';
export const DEV_SIGNING_SECRET = 'auralink-dev-url-signing-secret-change-me-01234567';

export type StorageBackend = 'disk' | 's3';

export interface Config {
  nodeEnv: string;
  isProduction: boolean;
  host: string;
  port: number;
  logLevel: string;
  dataDir: string;
  publicBaseUrl: string;
  trustProxy: boolean;
  shutdownTimeoutMs: number;
  /** HTTP worker processes (src/cluster.ts): a number, or 'auto' for the available cores. */
  workers: number | 'auto';
  database: { url: string | null; poolMax: number; migrateOnStart: boolean; statementCache: boolean };
  auth: {
    jwtSecret: string;
    usingDevSecret: boolean;
    jwksUrl: string | null;
    audience: string | null;
    issuer: string | null;
  };
  supabase: { url: string | null; anonKey: string | null; serviceRoleKey: string | null };
  http: { corsOrigins: string[] | '*'; bodyLimitBytes: number };
  rateLimit: { max: number; windowMs: number; redisUrl: string | null; redisPrefix: string };
  livekit: {
    url: string | null;
    apiKey: string;
    apiSecret: string;
    tokenTtlSeconds: number;
    reconcileIntervalSeconds: number;
  };
  storage: {
    backend: StorageBackend;
    bucket: string;
    endpoint: string | null;
    /** The variable that chose the endpoint, named in start-up errors. */
    endpointVariable: 'S3_ENDPOINT' | 'STORAGE_URL' | 'S3_REGION';
    region: string;
    accessKeyId: string | null;
    secretAccessKey: string | null;
    forcePathStyle: boolean;
    serviceRoleKey: string | null;
    uploadMaxBytes: number;
    downloadUrlTtlSeconds: number;
    urlSigningSecret: string;
  };
  scanner: { enabled: boolean; clamdHost: string | null; clamdPort: number; clamdSocket: string | null };
  jobs: { enabled: boolean; intervalSeconds: number };
  links: { joinRequestTtlSeconds: number; passwordAttemptsPerWindow: number };
  quality: { retentionDays: number };
  /** Who reads the operator API (/api/v1/admin): a claim of the verified token, or listed user ids. */
  operators: { claimPath: readonly string[] | null; claimValue: string; userIds: readonly string[] };
  rollups: { repairIntervalSeconds: number; repairDays: number };
}

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Every problem found in one reading of the environment, each naming its variable. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(variable: string, message: string);
  constructor(problems: readonly ConfigProblem[]);
  constructor(first: string | readonly ConfigProblem[], message?: string) {
    const problems = typeof first === 'string' ? [{ variable: first, message: message ?? '' }] : [...first];
    super(problems.map((p) => `Invalid configuration: ${p.variable} ${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
  /** The first variable named (there is always at least one). */
  get variable(): string {
    return this.problems[0]!.variable;
  }
  /** One line per problem, for stderr. */
  lines(): string[] {
    return this.message.split('\n');
  }
}

/**
 * The environment being read, plus the problems found so far. A bad value is noted
 * and replaced by its default so that reading goes on: an operator sees every
 * mistake in one start instead of one per restart.
 */
class Env {
  readonly problems: ConfigProblem[] = [];
  constructor(readonly vars: Record<string, string | undefined>) {}
  fail<T>(variable: string, message: string, fallback: T): T {
    this.problems.push({ variable, message });
    return fallback;
  }
  reported(...variables: string[]): boolean {
    return this.problems.some((p) => variables.includes(p.variable));
  }
}

function str(env: Env, name: string): string | null {
  const v = env.vars[name];
  return v === undefined || v.trim() === '' ? null : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === null) return def;
  if (!/^-?\d+$/.test(raw)) return env.fail(name, `must be an integer, got "${raw}"`, def);
  const n = Number(raw);
  if (n < min || n > max) return env.fail(name, `must be between ${min} and ${max}, got ${n}`, def);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name);
  if (raw === null) return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  return env.fail(name, `must be true or false, got "${raw}"`, def);
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = str(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return env.fail(name, `must be a URL, got "${raw}"`, null);
  }
  if (!protocols.includes(parsed.protocol)) {
    return env.fail(name, `must use one of ${protocols.join(', ')}`, null);
  }
  return raw.replace(/\/+$/, '');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], def: T): T {
  const raw = str(env, name);
  if (raw === null) return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    return env.fail(name, `must be one of ${allowed.join(', ')}, got "${raw}"`, def);
  }
  return raw as T;
}

function secret(env: Env, name: string, devDefault: string, minLength: number): string {
  const raw = str(env, name) ?? devDefault;
  // A development default may be short (LiveKit's --dev secret is 'secret'); production refuses them all below.
  if (raw !== devDefault && raw.length < minLength) env.fail(name, `must be at least ${minLength} characters`, undefined);
  return raw;
}

const UUID_ENV = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The claim is a dot path into the verified token (default Supabase's app_metadata.role,
// which only the service role can set). user_metadata is refused: users edit their own.
function operators(env: Env): Config['operators'] {
  const claim = str(env, 'OPERATOR_CLAIM') ?? 'app_metadata.role';
  let claimPath: string[] | null = claim === 'none' ? null : claim.split('.');
  if (claimPath && (claimPath.some((seg) => !/^[A-Za-z0-9_:-]{1,64}$/.test(seg)) || claimPath.length > 8)) {
    claimPath = env.fail('OPERATOR_CLAIM', `must be a dot path of claim names, or none; got "${claim}"`, null);
  } else if (claimPath && claimPath[0] === 'user_metadata') {
    claimPath = env.fail('OPERATOR_CLAIM', 'must not be under user_metadata, which users can edit themselves', null);
  }
  const ids = (str(env, 'OPERATOR_USER_IDS') ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  const bad = ids.filter((v) => !UUID_ENV.test(v));
  if (bad.length > 0) env.fail('OPERATOR_USER_IDS', `must be comma-separated user ids (uuids), got "${bad[0]}"`, undefined);
  return {
    claimPath,
    claimValue: str(env, 'OPERATOR_CLAIM_VALUE') ?? 'operator',
    userIds: ids.filter((v) => UUID_ENV.test(v)).map((v) => v.toLowerCase()),
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** NODE_ENV as loadConfig reads it, for tools that must decide before (or without) a valid configuration. */
export function nodeEnvOf(vars: Record<string, string | undefined> = process.env): string {
  return vars.NODE_ENV?.trim() || 'development';
}

/** Reads and checks every variable; throws one ConfigError listing every problem found. */
export function loadConfig(vars: Record<string, string | undefined> = process.env): Config {
  const env = new Env(vars);
  const nodeEnv = str(env, 'NODE_ENV') ?? 'development';
  const isProduction = nodeEnv === 'production';
  const port = int(env, 'PORT', 8080, 0, 65535);
  // Development listens on loopback only: it runs with public development secrets,
  // so anyone who could reach it could mint tokens. A container needs 0.0.0.0, hence
  // the production default (a deployment sets HOST to narrow it).
  const host = str(env, 'HOST') ?? (isProduction ? '0.0.0.0' : '127.0.0.1');
  const logLevel = oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info');
  const dataDir = path.resolve(str(env, 'DATA_DIR') ?? './data');

  const jwtSecret = secret(env, 'SUPABASE_JWT_SECRET', DEV_JWT_SECRET, 32);
  const livekitUrl = url(env, 'LIVEKIT_URL', ['ws:', 'wss:', 'http:', 'https:']);
  const livekitKey = str(env, 'LIVEKIT_API_KEY') ?? DEV_LIVEKIT_API_KEY;
  const livekitSecret = secret(env, 'LIVEKIT_API_SECRET', DEV_LIVEKIT_API_SECRET, 32);
  const signingSecret = secret(env, 'URL_SIGNING_SECRET', DEV_SIGNING_SECRET, 32);

  const storageUrl = url(env, 'STORAGE_URL', ['http:', 'https:']);
  const s3EndpointOwn = url(env, 'S3_ENDPOINT', ['http:', 'https:']);
  const s3Endpoint = s3EndpointOwn ?? storageUrl;
  const backend = oneOf<StorageBackend>(env, 'STORAGE_BACKEND', ['disk', 's3'], s3Endpoint ? 's3' : 'disk');
  if (backend === 's3' && !s3Endpoint && !str(env, 'S3_REGION')) {
    env.fail('S3_ENDPOINT', 'or S3_REGION is required when STORAGE_BACKEND=s3', undefined);
  }
  const allowEmbeddedDatabase = bool(env, 'ALLOW_EMBEDDED_DATABASE', false);
  const allowDiskStorage = bool(env, 'ALLOW_DISK_STORAGE', false);
  const clamdHost = str(env, 'CLAMD_HOST');
  const clamdSocket = str(env, 'CLAMD_SOCKET');
  const corsRaw = str(env, 'CORS_ORIGINS') ?? '*';

  const config: Config = {
    nodeEnv,
    isProduction,
    host,
    port,
    logLevel,
    dataDir,
    publicBaseUrl: url(env, 'PUBLIC_BASE_URL', ['http:', 'https:']) ?? `http://localhost:${port}`,
    trustProxy: bool(env, 'TRUST_PROXY', false),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    workers: str(env, 'WORKERS')?.toLowerCase() === 'auto' ? 'auto' : int(env, 'WORKERS', 1, 1, 256),
    database: {
      url: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
      poolMax: int(env, 'DATABASE_POOL_MAX', 10, 1, 500),
      migrateOnStart: bool(env, 'MIGRATE_ON_START', true),
      statementCache: bool(env, 'DATABASE_STATEMENT_CACHE', true),
    },
    auth: {
      jwtSecret,
      usingDevSecret: jwtSecret === DEV_JWT_SECRET,
      jwksUrl: url(env, 'JWT_JWKS_URL', ['http:', 'https:']),
      audience: str(env, 'JWT_AUDIENCE'),
      issuer: str(env, 'JWT_ISSUER'),
    },
    supabase: {
      url: url(env, 'SUPABASE_URL', ['http:', 'https:']),
      anonKey: str(env, 'SUPABASE_ANON_KEY'),
      serviceRoleKey: str(env, 'SUPABASE_SERVICE_ROLE_KEY'),
    },
    http: {
      corsOrigins: corsRaw === '*' ? '*' : corsRaw.split(',').map((s) => s.trim()).filter(Boolean),
      bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    },
    rateLimit: {
      max: int(env, 'RATE_LIMIT_MAX', 600, 1, 1_000_000),
      windowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1000, 3_600_000),
      redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
      redisPrefix: str(env, 'RATE_LIMIT_REDIS_PREFIX') ?? 'auralink-rl:',
    },
    livekit: {
      url: livekitUrl,
      apiKey: livekitKey,
      apiSecret: livekitSecret,
      tokenTtlSeconds: int(env, 'LIVEKIT_TOKEN_TTL_SECONDS', 600, 30, 86_400),
      reconcileIntervalSeconds: int(env, 'RECONCILE_INTERVAL_SECONDS', 30, 1, 3600),
    },
    storage: {
      backend,
      bucket: str(env, 'STORAGE_BUCKET') ?? 'auralink-files',
      endpoint: s3Endpoint,
      endpointVariable: s3EndpointOwn ? 'S3_ENDPOINT' : storageUrl ? 'STORAGE_URL' : 'S3_REGION',
      region: str(env, 'S3_REGION') ?? 'us-east-1',
      accessKeyId: str(env, 'S3_ACCESS_KEY_ID'),
      secretAccessKey: str(env, 'S3_SECRET_ACCESS_KEY'),
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', true),
      serviceRoleKey: str(env, 'STORAGE_SERVICE_ROLE_KEY'),
      uploadMaxBytes: int(env, 'UPLOAD_MAX_BYTES', 100 * 1024 * 1024, 1, 5 * 1024 ** 3),
      downloadUrlTtlSeconds: int(env, 'DOWNLOAD_URL_TTL_SECONDS', 3600, 10, 7 * 86_400),
      urlSigningSecret: signingSecret,
    },
    scanner: {
      enabled: bool(env, 'SCAN_ENABLED', Boolean(clamdHost || clamdSocket)),
      clamdHost,
      clamdPort: int(env, 'CLAMD_PORT', 3310, 1, 65535),
      clamdSocket,
    },
    jobs: {
      enabled: bool(env, 'JOBS_ENABLED', true),
      intervalSeconds: int(env, 'JOBS_INTERVAL_SECONDS', 60, 1, 86_400),
    },
    links: {
      joinRequestTtlSeconds: int(env, 'JOIN_REQUEST_TTL_SECONDS', 600, 10, 86_400),
      passwordAttemptsPerWindow: int(env, 'LINK_PASSWORD_ATTEMPTS', 5, 1, 1000),
    },
    quality: { retentionDays: int(env, 'QUALITY_RETENTION_DAYS', 90, 1, 3650) },
    operators: operators(env),
    rollups: {
      repairIntervalSeconds: int(env, 'ROLLUP_REPAIR_INTERVAL_SECONDS', 3600, 60, 7 * 86_400),
      repairDays: int(env, 'ROLLUP_REPAIR_DAYS', 2, 1, 366),
    },
  };

  if (config.scanner.enabled && !clamdHost && !clamdSocket) {
    env.fail('SCAN_ENABLED', 'needs CLAMD_HOST or CLAMD_SOCKET', undefined);
  }
  if (isProduction) {
    const devSecrets: Array<[string, boolean]> = [
      ['SUPABASE_JWT_SECRET', jwtSecret === DEV_JWT_SECRET && !config.auth.jwksUrl],
      ['LIVEKIT_API_SECRET', livekitSecret === DEV_LIVEKIT_API_SECRET],
      ['LIVEKIT_API_KEY', livekitKey === DEV_LIVEKIT_API_KEY],
      ['URL_SIGNING_SECRET', signingSecret === DEV_SIGNING_SECRET],
    ];
    for (const [name, isDev] of devSecrets) {
      if (isDev) env.fail(name, 'is the development default; set a real secret when NODE_ENV=production', undefined);
    }
    // The embedded modes are for trying the service: one process, data in DATA_DIR.
    // Production gets them only when asked for by name (and a warning at every start).
    // (A variable already reported as malformed is not reported again as missing.)
    if (!config.database.url && !allowEmbeddedDatabase && !env.reported('DATABASE_URL')) {
      env.fail(
        'DATABASE_URL',
        'is required when NODE_ENV=production (set ALLOW_EMBEDDED_DATABASE=true to run on the embedded database in DATA_DIR)',
        undefined,
      );
    }
    if (backend === 'disk' && !allowDiskStorage && !env.reported('S3_ENDPOINT', 'STORAGE_URL', 'STORAGE_BACKEND')) {
      env.fail(
        'STORAGE_BACKEND',
        'is disk; set S3_ENDPOINT (or STORAGE_BACKEND=s3) when NODE_ENV=production, or ALLOW_DISK_STORAGE=true to keep files in DATA_DIR',
        undefined,
      );
    }
  }
  if (env.problems.length > 0) throw new ConfigError(env.problems);
  return deepFreeze(config);
}
