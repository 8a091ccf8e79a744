// The operator scope at the database: a role that owns nothing and cannot bypass RLS,
// reads every call with no WHERE clause, and cannot write anything or read what stays
// private (contacts, e-mail addresses, link password hashes). On both engines.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPERATOR_ROLE } from '../src/db/database.ts';
import { createTestDatabase, enginesUnderTest, type TestDatabase } from './helpers/db.ts';

const A = 'aaaaaaaa-0000-4000-8000-0000000000a1';
const B = 'bbbbbbbb-0000-4000-8000-0000000000b2';
const OP = 'cccccccc-0000-4000-8000-0000000000c3';

for (const engine of await enginesUnderTest()) {
  describe(`operator scope on ${engine}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(engine);
      await t.db.privileged(async (sql) => {
        await sql.query(`INSERT INTO users (user_id, email) VALUES ($1, 'a@x.test'), ($2, 'b@x.test'), ($3, 'op@x.test')`, [A, B, OP]);
        await sql.query(`INSERT INTO calls (room_name, name, created_by) VALUES ('op-a', 'A', $1), ('op-b', 'B', $2)`, [A, B]);
        await sql.query(`INSERT INTO contacts (user_id, contact_user_id) VALUES ($1, $2)`, [A, B]);
        await sql.query(`INSERT INTO shareable_links (short_code, call_id, created_by, access_type, password_hash)
                         SELECT 'opcode000001', call_id, created_by, 'password', 'hash' FROM calls WHERE room_name = 'op-a'`);
      });
    });
    after(() => t.cleanup());

    it('runs as a role that owns nothing and cannot bypass RLS', async () => {
      const { rows } = await t.db.asOperator(OP, (sql) =>
        sql.query(`SELECT current_user AS who, r.rolbypassrls, r.rolsuper,
                          (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned,
                          current_setting('app.user_id') AS uid
                     FROM pg_roles r WHERE r.rolname = current_user`),
      );
      assert.deepEqual(rows[0], { who: OPERATOR_ROLE, rolbypassrls: false, rolsuper: false, owned: 0, uid: OP });
    });

    it('reads every call and session with no WHERE clause', async () => {
      const n = await t.db.asOperator(OP, (sql) => sql.query('SELECT count(*)::int AS n FROM calls'));
      assert.equal(n.rows[0].n, 2);
      const u = await t.db.asOperator(OP, (sql) => sql.query('SELECT count(*)::int AS n FROM users'));
      assert.equal(u.rows[0].n, 3);
    });

    it('writes nothing and reads nothing private', async () => {
      const refused: Array<[string, string]> = [
        [`INSERT INTO calls (room_name, name, created_by) VALUES ('op-c', 'C', '${OP}')`, 'insert'],
        [`UPDATE calls SET name = 'x'`, 'update'],
        [`DELETE FROM call_participants`, 'delete'],
        [`UPDATE usage_days SET calls = 0`, 'rollup update'],
        [`SELECT count(*) FROM contacts`, 'contacts'],
        [`SELECT email FROM users`, 'e-mail'],
        [`SELECT password_hash FROM shareable_links`, 'link password hash'],
        [`SELECT count(*) FROM call_events`, 'live events'],
        [`SELECT app.usage_rebuild(current_date, current_date + 1)`, 'repair'],
        [`SELECT app.usage_rebuild_with_peaks(current_date, current_date + 1)`, 'repair with peaks'],
        [`SELECT app.usage_open_rebuild()`, 'repair of the people connected now'],
        [`UPDATE usage_day_peaks SET peak = 1`, 'day peaks update'],
        [`DELETE FROM usage_open_keys`, 'people connected now delete'],
      ];
      for (const [text, label] of refused) {
        await assert.rejects(t.db.asOperator(OP, (sql) => sql.query(text)), (e: { code?: string }) => e.code === '42501', label);
      }
    });
  });
}
