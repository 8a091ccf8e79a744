// Row-Level Security holds on both engines: under a user's scope, a query with no
// WHERE returns only what that user may see, and writing another user's rows fails.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP_ROLE, type Database, type Sql } from '../src/db/database.ts';
import { createTestDatabase, enginesUnderTest, type TestDatabase } from './helpers/db.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';
const CALL_A = 'aaaaaaaa-1111-4000-8000-000000000001';
const CALL_B = 'bbbbbbbb-1111-4000-8000-000000000002';
const CALL_B_PUBLIC = 'bbbbbbbb-1111-4000-8000-000000000003';
const PART_A = 'aaaaaaaa-2222-4000-8000-000000000001';
const PART_B = 'bbbbbbbb-2222-4000-8000-000000000002';

// Tables that hold no user data and are only touched by the privileged path.
const SYSTEM_TABLES = new Set(['schema_migrations']);

async function seed(sql: Sql) {
  await sql.query(`INSERT INTO users (user_id, email, aura_id) VALUES
    ($1, 'a@x.test', '@a.aura'), ($2, 'b@x.test', '@b.aura'), ($3, 'c@x.test', '@c.aura')`, [A, B, C]);
  await sql.query(`INSERT INTO calls (call_id, room_name, name, created_by, privacy) VALUES
    ($1, 'room-a', 'A', $4, 'private'), ($2, 'room-b', 'B', $5, 'private'), ($3, 'room-b-pub', 'B pub', $5, 'public')`,
  [CALL_A, CALL_B, CALL_B_PUBLIC, A, B]);
  await sql.query(`INSERT INTO call_invitees (call_id, user_id, invited_by) VALUES ($1, $3, $4), ($2, $3, $5)`,
    [CALL_A, CALL_B, C, A, B]);
  await sql.query(`INSERT INTO call_participants (participant_id, call_id, user_id, identity) VALUES
    ($1, $3, $5, $7), ($2, $4, $6, $8)`, [PART_A, PART_B, CALL_A, CALL_B, A, B, A, B]);
  await sql.query(`INSERT INTO files (call_id, room_name, uploader_id, file_name, storage_path, storage_bucket) VALUES
    ($1, 'room-a', $3, 'a.txt', 'a', 'bk'), ($2, 'room-b', $4, 'b.txt', 'b', 'bk')`, [CALL_A, CALL_B, A, B]);
  await sql.query(`INSERT INTO shareable_links (short_code, call_id, created_by) VALUES
    ('aaaaaaaaaaaa', $1, $3), ('bbbbbbbbbbbb', $2, $4)`, [CALL_A, CALL_B, A, B]);
  await sql.query(`INSERT INTO quality_metrics (call_id, participant_id, quality_score) VALUES ($1, $3, 4), ($2, $4, 3)`,
    [CALL_A, CALL_B, PART_A, PART_B]);
  await sql.query(`INSERT INTO contacts (user_id, contact_user_id) VALUES ($1, $2), ($2, $1), ($3, $1)`, [A, B, C]);
  await sql.query(`INSERT INTO call_events (call_id, audience_user_id, type) VALUES
    ($1, NULL, 'x'), ($2, NULL, 'x'), ($1, $3, 'private-to-b')`, [CALL_A, CALL_B, B]);
}

// What A may see of each table, counted with no WHERE clause.
const VISIBLE_TO_A: Record<string, number> = {
  users: 1,
  calls: 2, // own private call + B's public one
  call_invitees: 1, // the invitation on A's call
  call_participants: 1,
  files: 1,
  shareable_links: 1,
  quality_metrics: 1,
  contacts: 1,
  call_events: 1,
  call_members: 1, // A created call A (and took part in it)
};

async function expectRefused(db: Database, label: string, text: string, params: unknown[]) {
  await assert.rejects(
    db.asUser(A, (sql) => sql.query(text, params)),
    (e: { code?: string }) => e.code === '42501',
    `${label} should be refused by RLS`,
  );
}

async function expectNoRows(db: Database, label: string, text: string, params: unknown[]) {
  const res = await db.asUser(A, (sql) => sql.query(text, params));
  assert.equal(res.rowCount, 0, `${label} should touch no rows`);
}

for (const engine of await enginesUnderTest()) {
  describe(`RLS on ${engine}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(engine);
      await t.db.privileged(seed);
    });
    after(() => t.cleanup());

    it('runs requests as a role that owns nothing and cannot bypass RLS', async () => {
      const { rows } = await t.db.asUser(A, (sql) =>
        sql.query(`SELECT current_user AS who, r.rolbypassrls, r.rolsuper,
                          (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned
                     FROM pg_roles r WHERE r.rolname = current_user`),
      );
      assert.deepEqual(rows[0], { who: APP_ROLE, rolbypassrls: false, rolsuper: false, owned: 0 });
    });

    it('every table with user data has RLS enabled', async () => {
      const { rows } = await t.db.privileged((sql) =>
        sql.query<{ relname: string; relrowsecurity: boolean }>(
          `SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
        ),
      );
      const missing = rows.filter((r) => !r.relrowsecurity && !SYSTEM_TABLES.has(r.relname)).map((r) => r.relname);
      assert.deepEqual(missing, [], 'tables without RLS (enable it, or list them in SYSTEM_TABLES with a reason)');
      for (const table of Object.keys(VISIBLE_TO_A)) assert.ok(rows.some((r) => r.relname === table), table);
    });

    it("a user's unfiltered queries return only what the user may see", async () => {
      for (const [table, expected] of Object.entries(VISIBLE_TO_A)) {
        const { rows } = await t.db.asUser(A, (sql) => sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`));
        assert.equal(rows[0]!.n, expected, table);
      }
    });

    it('an anonymous scope sees nothing', async () => {
      for (const table of Object.keys(VISIBLE_TO_A)) {
        const { rows } = await t.db.asUser(null, (sql) => sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`));
        assert.equal(rows[0]!.n, 0, table);
      }
      const { rows } = await t.db.asUser(null, (sql) => sql.query('SELECT count(*)::int AS n FROM user_profiles'));
      assert.equal(rows[0].n, 0, 'user_profiles');
    });

    it('a statement prepared under one user answers for whoever runs it next', async () => {
      // Same text, same connection pool, users alternating: past the fifth run PostgreSQL
      // may switch to a cached generic plan, which must still read the current scope.
      const text = 'SELECT call_id FROM calls WHERE $1::int = 1 ORDER BY call_id';
      const expected = new Map<string | null, string[]>([
        [A, [CALL_A, CALL_B_PUBLIC].sort()],
        [B, [CALL_B, CALL_B_PUBLIC].sort()],
        [C, [CALL_A, CALL_B, CALL_B_PUBLIC].sort()], // invited to both, and B's is public
        [null, []],
      ]);
      for (let round = 0; round < 8; round++) {
        for (const [user, ids] of expected) {
          const { rows } = await t.db.asUser(user, (sql) => sql.query<{ call_id: string }>(text, [1]));
          assert.deepEqual(rows.map((r) => r.call_id), ids, `round ${round}, user ${user}`);
        }
      }
      if (engine === 'postgres') {
        const rows = await t.db.asUser(A, async (sql) => {
          await sql.query(text, [1]);
          return (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [text])).rows;
        });
        assert.equal(rows[0]!.n, 1, 'the statement is prepared on the connection');
      }
    });

    it('the scope accepts only a uuid for the user id', async () => {
      await assert.rejects(t.db.asUser("x', true); SELECT 1; --", async () => 1), /not a uuid/);
    });

    it('public profiles are readable by signed-in users without private columns', async () => {
      const { rows } = await t.db.asUser(A, (sql) => sql.query('SELECT * FROM user_profiles ORDER BY aura_id'));
      assert.equal(rows.length, 3);
      assert.ok(!('email' in rows[0]!), 'email must not be exposed');
    });

    it("writing another user's rows fails", async () => {
      await expectRefused(t.db, 'insert a user for B', 'INSERT INTO users (user_id) VALUES ($1)', [
        'dddddddd-0000-4000-8000-000000000004',
      ]);
      await expectNoRows(t.db, "update B's profile", "UPDATE users SET display_name = 'x' WHERE user_id = $1", [B]);
      await expectRefused(t.db, 'create a call as B', "INSERT INTO calls (room_name, name, created_by) VALUES ('r-x', 'x', $1)", [B]);
      await expectNoRows(t.db, "update B's call", "UPDATE calls SET name = 'x' WHERE call_id = $1", [CALL_B]);
      await expectNoRows(t.db, "end B's public call", "UPDATE calls SET status = 'ended' WHERE call_id = $1", [CALL_B_PUBLIC]);
      await expectNoRows(t.db, "delete B's call", 'DELETE FROM calls WHERE call_id = $1', [CALL_B]);
      await expectRefused(t.db, "invite to B's call", 'INSERT INTO call_invitees (call_id, user_id, invited_by) VALUES ($1, $2, $3)', [CALL_B, A, A]);
      await expectRefused(t.db, 'join as B', 'INSERT INTO call_participants (call_id, user_id, identity) VALUES ($1, $2, $3)', [CALL_A, B, B]);
      await expectRefused(t.db, "join B's private call", 'INSERT INTO call_participants (call_id, user_id, identity) VALUES ($1, $2, $3)', [CALL_B, A, A]);
      await expectNoRows(t.db, "mute B", 'UPDATE call_participants SET audio_enabled = false WHERE participant_id = $1', [PART_B]);
      await expectRefused(t.db, "upload to B's call", "INSERT INTO files (call_id, room_name, uploader_id, file_name, storage_path, storage_bucket) VALUES ($1, 'room-b', $2, 'x', 'x', 'x')", [CALL_B, A]);
      await expectRefused(t.db, 'upload as B', "INSERT INTO files (call_id, room_name, uploader_id, file_name, storage_path, storage_bucket) VALUES ($1, 'room-a', $2, 'x', 'x', 'x')", [CALL_A, B]);
      await expectNoRows(t.db, "delete B's file", 'DELETE FROM files WHERE uploader_id = $1', [B]);
      await expectRefused(t.db, "link B's call", "INSERT INTO shareable_links (short_code, call_id, created_by) VALUES ('cccccccccccc', $1, $2)", [CALL_B, A]);
      await expectNoRows(t.db, "deactivate B's link", 'UPDATE shareable_links SET is_active = false WHERE created_by = $1', [B]);
      await expectRefused(t.db, "report quality for B", 'INSERT INTO quality_metrics (call_id, participant_id) VALUES ($1, $2)', [CALL_B, PART_B]);
      await expectRefused(t.db, 'add a contact for B', 'INSERT INTO contacts (user_id, contact_user_id) VALUES ($1, $2)', [B, C]);
      await expectNoRows(t.db, "edit B's contact", 'UPDATE contacts SET nickname = $2 WHERE user_id = $1', [B, 'x']);
      await expectNoRows(t.db, "delete B's contact", 'DELETE FROM contacts WHERE user_id = $1', [B]);
      await expectRefused(t.db, 'forge call history', 'INSERT INTO call_members (user_id, call_id, call_created_at) VALUES ($1, $2, now())', [A, CALL_B]);
      await expectRefused(t.db, "publish on B's call", "INSERT INTO call_events (call_id, type) VALUES ($1, 'x')", [CALL_B]);
    });

    it('blocking is visible to the blocked user only through is_blocked_by', async () => {
      await t.db.privileged((sql) => sql.query('UPDATE contacts SET is_blocked = true WHERE user_id = $1 AND contact_user_id = $2', [B, A]));
      const { rows } = await t.db.asUser(A, (sql) => sql.query('SELECT app.is_blocked_by($1) AS b, app.is_blocked_by($2) AS c', [B, C]));
      assert.deepEqual(rows[0], { b: true, c: false });
    });
  });
}
