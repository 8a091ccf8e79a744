// A fresh, migrated database per test file: a new database on the real PostgreSQL
// (TEST_DATABASE_URL, else 127.0.0.1:5432 when it answers), or an in-memory PGlite.
import crypto from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { openDatabase, type Database, type Engine } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { inCI, tcpReachable, urlHostPort } from './services.ts';

export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgAvailable: Promise<boolean> | null = null;
export function postgresAvailable(): Promise<boolean> {
  if (!pgAvailable) {
    const { host, port } = urlHostPort(adminUrl, 5432);
    pgAvailable = tcpReachable(host, port);
  }
  return pgAvailable;
}

/** The engines a test that must hold on both runs on. In CI, PostgreSQL must be there. */
export async function enginesUnderTest(): Promise<Engine[]> {
  if (await postgresAvailable()) return ['postgres', 'pglite'];
  const reason = `PostgreSQL is not reachable at ${adminUrl.replace(/\/\/[^@]*@/, '//')}`;
  if (inCI) throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`\n!!! ${reason}: running on PGlite only\n\n`);
  return ['pglite'];
}

/** The default engine for integration tests: PostgreSQL when reachable, else PGlite. */
export async function defaultEngine(): Promise<Engine> {
  return (await enginesUnderTest())[0]!;
}

export interface TestDatabase {
  db: Database;
  engine: Engine;
  /** Connection string of the fresh database (postgres only). */
  url: string | null;
  cleanup(): Promise<void>;
}

export async function createTestDatabase(engine?: Engine): Promise<TestDatabase> {
  const which = engine ?? (await defaultEngine());
  if (which === 'pglite') {
    const db = await openDatabase({ url: null, dataDir: null, poolMax: 1, logger: testLogger });
    await migrate(db.pool, testLogger);
    return { db, engine: which, url: null, cleanup: () => db.close() };
  }
  const name = `auralink_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = await openDatabase({ url, dataDir: null, poolMax: 5, logger: testLogger });
  await migrate(db.pool, testLogger);
  return {
    db,
    engine: which,
    url,
    async cleanup() {
      await db.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
