// npm run migrate: applies pending migrations to DATABASE_URL (or the embedded database).
import 'dotenv/config';
import { loadConfig } from '../config.ts';
import { createLogger } from '../context.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';

const config = loadConfig();
const logger = createLogger(config);
const db = await openDatabase({ url: config.database.url, dataDir: config.dataDir, poolMax: 1, logger });
try {
  const applied = await migrate(db.pool, logger);
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
} finally {
  await db.close();
}
