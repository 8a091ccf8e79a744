// Process entry: config -> context -> app -> listen, then a graceful shutdown.
import 'dotenv/config';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createContext, createLogger } from './context.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config);
  const ctx = await createContext(config, { logger });
  const app = await buildApp(ctx);
  const jobs = await import('./jobs/index.ts').then((m) => m.startJobs(ctx));

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

  await app.listen({ host: config.host, port: config.port });
  if (config.auth.usingDevSecret) {
    logger.warn('using the development JWT secret: `npm run dev-token -- alice` prints a token for curl');
  }
}

main().catch((err) => {
  process.stderr.write(`Failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
