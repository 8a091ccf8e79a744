// What the process checks before it serves: each dependency it cannot reach becomes
// ONE line naming the variable that points at it and the address (secrets redacted),
// never a stack trace; and the warnings an operator is owed at every start.
//
// The database is fatal everywhere: nothing works without it and migrations run
// first. S3 and LiveKit are fatal in production (a wrong endpoint should stop the
// deployment, not surface as 503s on the first uploads), a warning in development
// (the service still starts, /readiness reports them down until they come up).
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { isConnectionError } from './db/database.ts';

/** sysexits.h: a service this one needs is unavailable. */
export const EX_UNAVAILABLE = 69;
/** sysexits.h: configuration error. */
export const EX_CONFIG = 78;

/** A start-up failure the operator can act on; main prints the message alone and exits. */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = EX_UNAVAILABLE,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

const CHECK_TIMEOUT_MS = 5000;

/** The URL with its password (and any secret-looking query parameter) replaced by ***. */
export function redactUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '<unparseable URL>';
  }
  if (u.password) u.password = '***';
  for (const key of [...u.searchParams.keys()]) {
    if (/pass|secret|key|token/i.test(key)) u.searchParams.set(key, '***');
  }
  return u.toString().replace(/\/$/, '');
}

/**
 * The most specific reason in an error: adapters wrap the real failure ("fetch
 * failed", "s3 storage: Error"), so this follows the causes down to the innermost
 * message, and names the first errno or SQLSTATE code (or error class) met.
 */
export function describeError(err: unknown): string {
  const seen = new Set<unknown>();
  let code: string | undefined;
  let name: string | undefined;
  let message: string | undefined;
  let e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | null;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if (!code && typeof e.code === 'string' && e.code) code = e.code;
    if (typeof e.name === 'string' && !/^(Error|AggregateError|TypeError)$/.test(e.name)) name = e.name;
    if (typeof e.message === 'string' && e.message) message = e.message;
    // Node reports a failed dual-stack connect as an AggregateError of one error per address.
    e = (e.cause ?? (Array.isArray(e.errors) ? e.errors[0] : null)) as typeof e;
  }
  // Servers echo the credential they refused (LiveKit quotes the whole token): never print one.
  const text = (message ?? String(err))
    .split('\n')[0]!
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<token>')
    .slice(0, 200);
  const label = code ?? name;
  return !label || text.includes(label) ? text : `${label}: ${text}`;
}

async function within<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line for a database that cannot be used, naming DATABASE_URL without its password. */
export function databaseFailure(url: string, err: unknown): string {
  const where = `DATABASE_URL=${redactUrl(url)}`;
  const reason = describeError(err);
  if (isConnectionError(err) || /no answer within|timeout|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/i.test(reason)) {
    return `Cannot reach the database at ${where} (${reason}); is PostgreSQL running and reachable from here?`;
  }
  return `The database at ${where} refused the connection (${reason})`;
}

/** Connects once with a short timeout, so an unreachable DATABASE_URL is one line, not a stack trace. */
export async function checkDatabase(config: Config): Promise<void> {
  const url = config.database.url;
  if (!url) return;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CHECK_TIMEOUT_MS });
  // A server that drops the connection mid-check emits 'error' on the client.
  client.on('error', () => undefined);
  try {
    await within(CHECK_TIMEOUT_MS + 1000, async () => {
      await client.connect();
      await client.query('SELECT 1');
    });
  } catch (err) {
    throw new StartupError(databaseFailure(url, err));
  } finally {
    await client.end().catch(() => undefined);
  }
}

function storageWhere(config: Config): string {
  const s = config.storage;
  if (s.backend === 'disk') return `DATA_DIR=${config.dataDir} (files in ${config.dataDir}/files)`;
  const address = s.endpoint ? redactUrl(s.endpoint) : `${s.region} (AWS)`;
  return `${s.endpointVariable}=${address}, bucket STORAGE_BUCKET=${s.bucket}`;
}

/**
 * Storage (bucket created when missing and allowed) and LiveKit, each within a few
 * seconds. Returns one line per failure; in production any failure throws them all.
 */
export async function checkServices(ctx: Pick<AppContext, 'config' | 'storage' | 'livekit'>): Promise<string[]> {
  const { config, storage, livekit } = ctx;
  const failures: string[] = [];
  try {
    // ensureBucket (S3): a fresh MinIO has no bucket, and readiness would stay down until an upload made it.
    const ready = 'ensureBucket' in storage && typeof storage.ensureBucket === 'function' ? storage.ensureBucket.bind(storage) : null;
    await within(CHECK_TIMEOUT_MS, () => (ready ? ready() : storage.check()));
  } catch (err) {
    const what = config.storage.backend === 'disk' ? 'Cannot write the file storage at' : 'Cannot reach the S3 storage at';
    failures.push(`${what} ${storageWhere(config)} (${describeError(err)}); uploads and downloads will fail`);
  }
  if (livekit.configured && config.livekit.url) {
    try {
      await within(CHECK_TIMEOUT_MS, () => livekit.probe());
    } catch (err) {
      const status = (err as { cause?: { status?: number } }).cause?.status ?? (err as { status?: number }).status;
      const where = `LIVEKIT_URL=${redactUrl(config.livekit.url)}`;
      failures.push(
        status === 401 || status === 403
          ? `LiveKit at ${where} refused the API key (HTTP ${status}); check LIVEKIT_API_KEY and LIVEKIT_API_SECRET`
          : `Cannot reach LiveKit at ${where} (${describeError(err)}); is the LiveKit server running?`,
      );
    }
  }
  if (failures.length > 0 && config.isProduction) throw new StartupError(failures.join('\n'));
  return failures;
}

/** What an operator must hear at every start, even when it was allowed on purpose. */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.isProduction && !config.database.url) {
    warnings.push(
      `ALLOW_EMBEDDED_DATABASE=true: production runs on the embedded database in DATA_DIR=${config.dataDir} (one process only, no PostgreSQL backups or replicas); set DATABASE_URL`,
    );
  }
  if (config.isProduction && config.storage.backend === 'disk') {
    warnings.push(
      `ALLOW_DISK_STORAGE=true: production keeps files on this machine's disk in DATA_DIR=${config.dataDir}/files (not shared between instances); set S3_ENDPOINT`,
    );
  }
  const loopback = /^(127\.|::1$|localhost$)/.test(config.host);
  if (!config.isProduction && config.auth.usingDevSecret && !loopback) {
    warnings.push(
      `HOST=${config.host} with the development JWT secret: anyone who can reach this port can sign in as anyone; set SUPABASE_JWT_SECRET or keep HOST on 127.0.0.1`,
    );
  }
  return warnings;
}

export function logWarnings(logger: Logger, warnings: string[]): void {
  for (const w of warnings) logger.warn(w);
}
