// The migration runner: concurrent starts apply each migration once; an edited,
// already applied migration is refused instead of silently skipped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../src/db/database.ts';
import { loadMigrations, migrate } from '../src/db/migrate.ts';
import { createTestDatabase, postgresAvailable, testLogger, type TestDatabase } from './helpers/db.ts';
import { serviceSkip } from './helpers/services.ts';

const skip = await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL or 127.0.0.1:5432');

describe('migrations', { skip }, () => {
  let t: TestDatabase;
  let other: Database;
  before(async () => {
    t = await createTestDatabase('postgres');
    other = await openDatabase({ url: t.url, dataDir: null, poolMax: 2, logger: testLogger });
  });
  after(async () => {
    await other.close();
    await t.cleanup();
  });

  it('applies nothing twice when several instances start together', async () => {
    await t.db.privileged((sql) => sql.query('DROP SCHEMA public CASCADE; DROP SCHEMA app CASCADE; CREATE SCHEMA public'));
    const [a, b] = await Promise.all([migrate(t.db.pool, testLogger), migrate(other.pool, testLogger)]);
    const all = loadMigrations().map((m) => m.version);
    assert.deepEqual([...a, ...b].sort(), all.sort(), 'each migration applied by exactly one instance');
    const { rows } = await t.db.privileged((sql) => sql.query('SELECT count(*)::int AS n FROM schema_migrations'));
    assert.equal(rows[0].n, all.length);
  });

  it('refuses a landed migration whose text changed', async () => {
    const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'tampered' } : m));
    await assert.rejects(migrate(t.db.pool, testLogger, edited), /edited after it was applied/);
  });
});
