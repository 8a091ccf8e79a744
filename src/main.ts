// Process entry: config -> start-up checks -> context -> app -> listen, then a
// graceful shutdown. A start that cannot succeed ends with one line per problem on
// stderr and a sysexits code (78 configuration, 69 a dependency unreachable).
import 'dotenv/config';
import cluster from 'node:cluster';
import { buildApp } from './app.ts';
import { planWorkers, runPrimary, runsJobs } from './cluster.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createContext, createLogger, type AppContext } from './context.ts';
import { isConnectionError } from './db/database.ts';
import {
  checkDatabase,
  checkServices,
  databaseFailure,
  describeError,
  EX_CONFIG,
  logWarnings,
  startupWarnings,
  StartupError,
} from './startup.ts';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new StartupError(err.message, EX_CONFIG);
    throw err;
  }
}

async function openContext(config: Config, logger: ReturnType<typeof createLogger>): Promise<AppContext> {
  await checkDatabase(config);
  try {
    return await createContext(config, { logger });
  } catch (err) {
    // Reachable a moment ago but gone during migrations: still one line, not a trace.
    if (config.database.url && isConnectionError(err)) throw new StartupError(databaseFailure(config.database.url, err));
    throw err;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config);
  const workers = planWorkers(config);
  // Start-up warnings once per service, from the primary (or the only process).
  if (cluster.isPrimary) logWarnings(logger, [...startupWarnings(config), ...workers.warnings]);
  if (cluster.isPrimary && workers.count > 1) process.exit(await runPrimary(workers.count, config, logger));
  const ctx = await openContext(config, logger);
  try {
    // Production: throws on the first unreachable S3 or LiveKit. Development: warns.
    logWarnings(logger, await checkServices(ctx));
  } catch (err) {
    await ctx.close();
    throw err;
  }
  const app = await buildApp(ctx);
  // With WORKERS > 1 only worker 0 starts the jobs (each is also safe on N instances).
  const jobs = runsJobs() ? await import('./jobs/index.ts').then((m) => m.startJobs(ctx)) : { stop: async () => undefined };
  if (runsJobs() && config.jobs.enabled) logger.info('background jobs started in this process');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000);
    force.unref();
    await jobs.stop();
    // close() stops accepting and waits for in-flight requests, bounded below.
    const closing = app.close();
    const timer = setTimeout(() => app.server.closeAllConnections?.(), config.shutdownTimeoutMs);
    await closing.catch((err) => logger.error({ err }, 'error while closing the server'));
    clearTimeout(timer);
    await ctx.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    throw new StartupError(`Cannot listen on HOST=${config.host} PORT=${config.port} (${describeError(err)})`);
  }
  if (config.auth.usingDevSecret && !config.isProduction) {
    logger.warn('using the development JWT secret: `npm run dev-token -- alice` prints a token for curl');
  }
}

main().catch((err) => {
  if (err instanceof StartupError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(err.exitCode);
  }
  // Anything else is a defect, and its stack is what finds it.
  process.stderr.write(`Failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
