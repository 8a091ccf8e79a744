// npm run migrate: applies pending migrations to DATABASE_URL (or the embedded database).
// Like the server, a bad configuration or an unreachable database is one line, no trace.
import 'dotenv/config';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../context.ts';
import { isConnectionError, openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { checkDatabase, databaseFailure, EX_CONFIG, StartupError } from '../startup.ts';

try {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    throw err instanceof ConfigError ? new StartupError(err.message, EX_CONFIG) : err;
  }
  await checkDatabase(config);
  const logger = createLogger(config);
  const db = await openDatabase({ url: config.database.url, dataDir: config.dataDir, poolMax: 1, logger });
  try {
    const applied = await migrate(db.pool, logger);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
  } catch (err) {
    if (config.database.url && isConnectionError(err)) throw new StartupError(databaseFailure(config.database.url, err));
    throw err;
  } finally {
    await db.close();
  }
} catch (err) {
  if (!(err instanceof StartupError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(err.exitCode);
}
