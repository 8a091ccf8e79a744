// Contacts search at scale: 100k contacts of one user (the worst case for a single
// owner) plus 100k of other owners, then EXPLAIN ANALYZE of the list queries.
// Run: node --import tsx bench/contacts-search.ts   (needs PostgreSQL, TEST_DATABASE_URL)
import { createTestDatabase } from '../test/helpers/db.ts';

const N = Number(process.env.N ?? 100_000);
const t = await createTestDatabase('postgres');
try {
  const owner = await t.db.privileged(async (sql) => {
    await sql.query(
      `INSERT INTO users (user_id, aura_id, display_name)
       SELECT gen_random_uuid(), '@user' || i || '.aura', (ARRAY['Ann','Bob','Cid','Dee','Eve'])[1 + i % 5] || ' ' || md5(i::text)
         FROM generate_series(1, $1) i`,
      [N],
    );
    const { rows } = await sql.query(`SELECT user_id FROM users WHERE aura_id = '@user1.aura'`);
    const me = rows[0].user_id as string;
    await sql.query(
      `INSERT INTO contacts (user_id, contact_user_id, nickname)
       SELECT $1, user_id, CASE WHEN random() < 0.1 THEN 'nick' || substr(md5(user_id::text), 1, 6) END
         FROM users WHERE user_id <> $1`,
      [me],
    );
    // Other owners: each of 1000 users with 100 contacts.
    await sql.query(
      `INSERT INTO contacts (user_id, contact_user_id)
       SELECT o.user_id, c.user_id FROM (SELECT user_id FROM users WHERE user_id <> $1 LIMIT 1000) o
       CROSS JOIN LATERAL (SELECT user_id FROM users u WHERE u.user_id <> o.user_id ORDER BY u.user_id LIMIT 100) c
       ON CONFLICT DO NOTHING`,
      [me],
    );
    await sql.query('ANALYZE');
    return me;
  });
  const queries: Array<[string, string | null]> = [
    ['q=user4242 (selective)', 'user4242'],
    ['q=nick (10% of rows)', 'nick'],
    ['q=bob (20% of rows)', 'bob'],
    ['no filter', null],
  ];
  for (const [label, q] of queries) {
    // The inner query of app.search_contacts, as it is planned for these values.
    const { rows } = await t.db.privileged(async (sql) => {
      if (process.env.NO_INDEXSCAN) await sql.query('SET LOCAL enable_indexscan = off');
      return sql.query(
        `EXPLAIN (ANALYZE, BUFFERS)
         SELECT contact_id FROM contacts
          WHERE user_id = $1 AND ($2::text IS NULL OR search_vector @@ app.contact_search_query($2))
          ORDER BY created_at DESC, contact_id DESC LIMIT 21`.replace(/\$1/g, `'${owner}'`).replace(/\$2/g, q ? `'${q}'` : 'NULL'),
      );
    });
    const started = performance.now();
    const res = await t.db.asUser(owner, (sql) =>
      sql.query(
        `SELECT c.contact_id, p.display_name, app.contact_in_call(c.contact_user_id) AS in_call
           FROM contacts c LEFT JOIN user_profiles p ON p.user_id = c.contact_user_id
          WHERE c.contact_id IN (SELECT app.search_contacts($1, NULL, NULL, NULL, NULL, NULL, NULL, 21))
          ORDER BY c.created_at DESC, c.contact_id DESC`,
        [q],
      ),
    );
    const ms = (performance.now() - started).toFixed(1);
    console.log(`\n=== ${label}: ${res.rowCount} rows through the API query in ${ms} ms\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`);
  }
} finally {
  await t.cleanup();
}
