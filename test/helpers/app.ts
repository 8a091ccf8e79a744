// Builds the real app on a fresh test database, with tokens for named users.
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { devToken, devUserId } from '../../src/cli/dev-token.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Engine } from '../../src/db/database.ts';
import { createContext, type AppContext } from '../../src/context.ts';
import { createTestDatabase, testLogger, type TestDatabase } from './db.ts';
import type { Instance } from './instances.ts';
import { serveFromWorkers, testWorkers } from './workers-app.ts';

export interface TestApp {
  app: FastifyInstance;
  /**
   * This process's own app, whichever way `app` serves: for a test that patches the
   * context's adapters (fault injection) or counts this process's round trips.
   */
  local: Pick<FastifyInstance, 'inject'>;
  ctx: AppContext;
  config: Config;
  database: TestDatabase;
  /** A valid access token for the development user `name`. */
  token(name: string): Promise<string>;
  userId(name: string): string;
  auth(name: string): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  engine?: Engine;
  env?: Record<string, string>;
  /** Reuse a database (e.g. two app instances on one database). */
  database?: TestDatabase;
  /** A logger to read what the app logs (default: the silent test logger). Keeps the app in process. */
  logger?: AppContext['logger'];
  /** The port the app will listen on (TEST_WORKERS starts its cluster there). */
  port?: number;
  /**
   * Why this app must serve in the test's own process even under TEST_WORKERS (the test
   * reads or changes the app's internals); a reason is required so that it shows.
   */
  inProcess?: string;
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const database = opts.database ?? (await createTestDatabase(opts.engine));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    // Never created unless a test stores files without a DATA_DIR of its own; its
    // parent is writable, so the disk storage (a required readiness check) is up
    // for a user who is not root too.
    DATA_DIR: path.join(os.tmpdir(), 'auralink-test-unused-data-dir'),
    JOBS_ENABLED: 'false',
    RATE_LIMIT_MAX: '100000',
    ...opts.env,
  };
  const config = loadConfig(env);
  const ctx = await createContext(config, { logger: opts.logger ?? testLogger, db: database.db });
  const app = await buildApp(ctx);
  await app.ready();
  // TEST_WORKERS=auto|N: requests go to the service as N workers on this database.
  const workers = testWorkers();
  const local = { inject: app.inject.bind(app) } as Pick<FastifyInstance, 'inject'>;
  let cluster: Instance | null = null;
  if (workers && database.url && !opts.logger && !opts.inProcess) {
    cluster = await serveFromWorkers(app, workers, { ...env, PUBLIC_BASE_URL: config.publicBaseUrl }, database.url, opts.port);
  }
  const owned = !opts.database;
  return {
    app,
    local,
    ctx,
    config,
    database,
    token: (name) => devToken(config.auth.jwtSecret, name),
    userId: devUserId,
    auth: async (name) => ({ authorization: `Bearer ${await devToken(config.auth.jwtSecret, name)}` }),
    async close() {
      await cluster?.stop();
      await app.close();
      await ctx.close();
      if (owned) await database.cleanup();
    },
  };
}
