// Everything the app needs, built once from the Config: database, Redis, adapters,
// readiness checks. Tests build it with their own Config; main.ts closes it on exit.
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { probe, type ReadinessCheck } from './http/health.ts';
import { createLiveKit, type LiveKitAdapter } from './adapters/livekit.ts';
import { createStorage, type StorageBackend } from './adapters/storage/index.ts';
import { createScanner, type Scanner } from './adapters/scanner/index.ts';

export interface AppContext {
  config: Config;
  logger: Logger;
  db: Database;
  redis: Redis | null;
  livekit: LiveKitAdapter;
  storage: StorageBackend;
  /** null when scanning is off (the embedded default): files are stored as scan_status 'skipped'. */
  scanner: Scanner | null;
  readiness: Map<string, ReadinessCheck>;
  /** Checks whose failure makes /readiness 503: database, storage, LiveKit when configured. */
  requiredChecks: Set<string>;
  close(): Promise<void>;
}

/** Credentials in request headers, removed from every log line that carries them. */
export const REDACTED_HEADERS = ['req.headers.authorization', 'req.headers.cookie'];
/** Secret-named properties of any logged object (a wildcard: pino checks every field). */
const REDACTED_FIELDS = ['*.password', '*.token'];

export function createLogger(config: Config): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: [...REDACTED_HEADERS, ...REDACTED_FIELDS], remove: true },
  });
}

/**
 * What requests need: every request the database, every upload and download the
 * storage, room creation and removal LiveKit (when configured). Redis (rate limits
 * fail open) and the scanner (uploads wait as pending) only degrade the service.
 */
export function requiredChecks(config: Config): Set<string> {
  const required = new Set(['database', 'storage']);
  if (config.livekit.url) required.add('livekit');
  return required;
}

export interface ContextOverrides {
  logger?: Logger;
  db?: Database;
}

export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config);
  const db =
    overrides.db ??
    (await openDatabase({
      url: config.database.url,
      dataDir: config.dataDir,
      poolMax: config.database.poolMax,
      statementCache: config.database.statementCache,
      logger,
    }));
  const closers: Array<() => Promise<unknown>> = [];
  if (!overrides.db) closers.push(() => db.close());
  try {
    if (config.database.migrateOnStart && !overrides.db) await migrate(db.pool, logger);
    const redis = config.rateLimit.redisUrl
      ? new Redis(config.rateLimit.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true })
      : null;
    if (redis) {
      redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
      closers.push(() => redis.quit().catch(() => redis.disconnect()));
      // Connect before serving, so the first requests are counted in the shared budget;
      // a Redis that is down at start only degrades (rate limiting then fails open).
      await redis.connect().catch((err) => logger.warn({ err: err.message }, 'redis not reachable at start'));
    }
    const readiness = new Map<string, ReadinessCheck>([['database', () => probe(() => db.ping())]]);
    if (redis) readiness.set('redis', () => probe(() => redis.ping()));
    const livekit = createLiveKit(config);
    const storage = await createStorage(config);
    readiness.set('storage', () => probe(() => storage.check()));
    const scanner = await createScanner(config);
    if (scanner) readiness.set('scanner', () => probe(() => scanner.ping()));
    readiness.set('livekit', async () =>
      livekit.configured ? probe(() => livekit.probe()) : { status: 'not_configured', message: 'LIVEKIT_URL is not set' },
    );
    return {
      config,
      logger,
      db,
      redis,
      livekit,
      storage,
      scanner,
      readiness,
      requiredChecks: requiredChecks(config),
      async close() {
        for (const c of closers.reverse()) await c().catch((err) => logger.warn({ err }, 'close failed'));
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
}
