// Prepared statements on real PostgreSQL: reused per connection, and a connection whose
// statements a schema change made stale (another instance migrating) is replaced
// rather than failing every request it serves.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../src/db/database.ts';
import { adminUrl, createTestDatabase, postgresAvailable, testLogger, type TestDatabase } from './helpers/db.ts';
import { serviceSkip } from './helpers/services.ts';

const skip = await serviceSkip('PostgreSQL', await postgresAvailable(), adminUrl.replace(/\/\/[^@]*@/, '//'));

describe('statement cache', { skip }, () => {
  let t: TestDatabase;
  let one: Database; // a pool of one connection, so every call below shares it
  before(async () => {
    t = await createTestDatabase('postgres');
    one = await openDatabase({ url: t.url, dataDir: null, poolMax: 1, logger: testLogger });
    await one.privileged((sql) => sql.query(`CREATE TABLE cache_probe (id int PRIMARY KEY)`));
    await one.privileged((sql) => sql.query(`INSERT INTO cache_probe VALUES (1)`));
  });
  after(async () => {
    await one.close();
    await t.cleanup();
  });

  it('prepares a statement once and replaces a connection whose plan a schema change made stale', async () => {
    const text = 'SELECT * FROM cache_probe WHERE id = $1';
    const run = () => one.privileged((sql) => sql.query(text, [1]));
    assert.deepEqual((await run()).rows, [{ id: 1 }]);
    const pid = async () => (await one.privileged((sql) => sql.query<{ p: number }>('SELECT pg_backend_pid() AS p'))).rows[0]!.p;
    const before = await pid();
    const prepared = await one.privileged((sql) =>
      sql.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [text]));
    assert.equal(prepared.rows[0]!.n, 1);

    // Another process changes the table's shape under the prepared statement.
    await t.db.privileged((sql) => sql.query('ALTER TABLE cache_probe ADD COLUMN note text'));
    await assert.rejects(run(), (e: { code?: string }) => e.code === '0A000');
    // The stale connection was dropped: the next request runs on a fresh one.
    assert.deepEqual((await run()).rows, [{ id: 1, note: null }]);
    assert.notEqual(await pid(), before);
  });
});
