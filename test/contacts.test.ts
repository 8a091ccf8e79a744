import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { enginesUnderTest } from './helpers/db.ts';

// Search and presence lean on SQL functions and triggers: both engines must agree.
for (const engine of await enginesUnderTest()) describe(`contacts on ${engine}`, () => {
  let t: TestApp;
  const ids: Record<string, string> = {};

  async function req(name: string | null, method: string, url: string, payload?: unknown) {
    const headers = name ? await t.auth(name) : {};
    return t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers, payload: payload as object });
  }
  const add = (owner: string, body: Record<string, unknown>) => req(owner, 'POST', '/contacts', body);

  before(async () => {
    t = await startTestApp({ engine });
    // One authenticated request each creates the users' rows.
    for (const n of ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) {
      assert.equal((await req(n, 'GET', '/users/me')).statusCode, 200);
      ids[n] = t.userId(n);
    }
  });
  after(() => t.close());

  it('adds by user id and by AuraID, with the public profile', async () => {
    const r1 = await add('alice', { contact_user_id: ids.bob, nickname: 'Bobby', tags: ['Work', 'work '] });
    assert.equal(r1.statusCode, 201, r1.body);
    const c = r1.json();
    assert.equal(c.contact_user_id, ids.bob);
    assert.deepEqual(c.contact, { aura_id: '@bob.aura', display_name: 'Bob', avatar_url: null, in_call: false });
    assert.equal(c.relationship_type, 'friend');
    assert.deepEqual(c.tags, ['work']);
    assert.equal(c.is_blocked, false);

    const r2 = await add('alice', { aura_id: '@carol.aura', relationship_type: 'colleague', is_favorite: true });
    assert.equal(r2.statusCode, 201, r2.body);
    assert.equal(r2.json().contact_user_id, ids.carol);
  });

  it('refuses self (400), unknown users (404), duplicates (409) and ambiguous input (400)', async () => {
    assert.equal((await add('alice', { contact_user_id: ids.alice })).statusCode, 400);
    assert.equal((await add('alice', { aura_id: '@alice.aura' })).statusCode, 400);
    assert.equal((await add('alice', { contact_user_id: '00000000-0000-4000-8000-000000000000' })).statusCode, 404);
    assert.equal((await add('alice', { aura_id: '@nobody.aura' })).statusCode, 404);
    const dup = await add('alice', { aura_id: '@bob.aura' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'CONFLICT');
    assert.equal((await add('alice', {})).statusCode, 400);
    assert.equal((await add('alice', { contact_user_id: ids.dave, aura_id: '@dave.aura' })).statusCode, 400);
    assert.equal((await add('alice', { contact_user_id: ids.dave, relationship_type: 'enemy' })).statusCode, 400);
  });

  it('concurrent duplicate adds: one 201, the rest 409', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => add('erin', { contact_user_id: ids.dave })));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409]);
  });

  it('the database refuses self and duplicate contacts on its own', async () => {
    await assert.rejects(
      t.ctx.db.asUser(ids.alice!, (sql) =>
        sql.query('INSERT INTO contacts (user_id, contact_user_id) VALUES ($1, $1)', [ids.alice]),
      ),
      (e: { code?: string }) => e.code === '23514',
    );
    await assert.rejects(
      t.ctx.db.asUser(ids.alice!, (sql) =>
        sql.query('INSERT INTO contacts (user_id, contact_user_id) VALUES ($1, $2)', [ids.alice, ids.bob]),
      ),
      (e: { code?: string }) => e.code === '23505',
    );
  });

  it('filters by relationship, favorite, tag and q over nickname, display name and AuraID', async () => {
    const names = (res: { json(): { contacts: Array<{ contact_user_id: string }> } }) =>
      res.json().contacts.map((c) => Object.keys(ids).find((k) => ids[k] === c.contact_user_id)).sort();
    assert.deepEqual(names(await req('alice', 'GET', '/contacts')), ['bob', 'carol']);
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?relationship_type=colleague')), ['carol']);
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?is_favorite=true')), ['carol']);
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?is_favorite=false')), ['bob']);
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?tag=WORK')), ['bob']);
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?q=bobb')), ['bob'], 'nickname prefix');
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?q=car')), ['carol'], 'display name prefix');
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?q=%40carol.aura')), ['carol'], 'full AuraID');
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?q=aura')), [], 'the .aura suffix matches no one');
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?q=zzz')), []);
    assert.deepEqual(names(await req('alice', 'GET', '/contacts?q=%27%22%5C%3A*%26%7C!')), ['bob', 'carol'], 'only punctuation: no filter');
    assert.equal((await req('alice', 'GET', '/contacts?is_favorite=maybe')).statusCode, 400);
  });

  it("follows the other user's profile changes in search", async () => {
    const put = await req('carol', 'PUT', '/users/me', { display_name: 'Caroline Quartz' });
    assert.equal(put.statusCode, 200);
    const res = await req('alice', 'GET', '/contacts?q=quar');
    assert.deepEqual(res.json().contacts.map((c: { contact_user_id: string }) => c.contact_user_id), [ids.carol]);
    assert.equal(res.json().contacts[0].contact.display_name, 'Caroline Quartz');
  });

  it('pages with a keyset cursor', async () => {
    for (const n of ['carol', 'bob', 'alice', 'erin']) await add('mallory', { contact_user_id: ids[n] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await req('mallory', 'GET', `/contacts?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200);
      seen.push(...res.json().contacts.map((c: { contact_id: string }) => c.contact_id));
      cursor = res.json().next_cursor;
    } while (cursor);
    assert.equal(seen.length, 4);
    assert.equal(new Set(seen).size, 4);
    assert.equal((await req('mallory', 'GET', '/contacts?cursor=garbage')).statusCode, 400);
  });

  it('updates partially; blocked contacts stay listable with is_blocked=true', async () => {
    const bob = (await req('alice', 'GET', '/contacts?q=bob')).json().contacts[0];
    const res = await req('alice', 'PUT', `/contacts/${bob.contact_id}`, { is_blocked: true, notes: 'spam' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().is_blocked, true);
    assert.equal(res.json().nickname, 'Bobby', 'untouched fields stay');
    const blocked = (await req('alice', 'GET', '/contacts?is_blocked=true')).json().contacts;
    assert.deepEqual(blocked.map((c: { contact_id: string }) => c.contact_id), [bob.contact_id]);
    assert.equal((await req('alice', 'PUT', `/contacts/${bob.contact_id}`, {})).statusCode, 400);
  });

  it('shows whether a contact is in an active call, never to someone they blocked', async () => {
    const callId = await t.ctx.db.privileged(async (sql) => {
      const { rows } = await sql.query(
        `INSERT INTO calls (room_name, name, created_by, status) VALUES ('presence-room', 'P', $1, 'active') RETURNING call_id`,
        [ids.dave],
      );
      await sql.query(
        `INSERT INTO call_participants (call_id, user_id, identity, status) VALUES ($1, $2, $3, 'connected')`,
        [rows[0].call_id, ids.dave, ids.dave],
      );
      return rows[0].call_id as string;
    });
    const erinView = (await req('erin', 'GET', '/contacts')).json().contacts[0];
    assert.equal(erinView.contact.in_call, true);
    // Every way of picking a page answers the same: a later page, a search, a filter.
    assert.equal((await add('erin', { contact_user_id: ids.carol, is_favorite: true })).statusCode, 201);
    const first = (await req('erin', 'GET', '/contacts?limit=1')).json();
    assert.equal(first.contacts[0].contact_user_id, ids.carol);
    assert.equal(first.contacts[0].contact.in_call, false);
    const paths = [`/contacts?limit=1&cursor=${first.next_cursor}`, '/contacts?q=dave', '/contacts?is_favorite=false',
      `/contacts?is_favorite=false&limit=1&cursor=${first.next_cursor}`, '/contacts'];
    const daveInCall = async (url: string) => {
      const dave = (await req('erin', 'GET', url)).json().contacts.find((c: { contact_user_id: string }) => c.contact_user_id === ids.dave);
      assert.ok(dave, url);
      return dave.contact.in_call as boolean;
    };
    for (const url of paths) assert.equal(await daveInCall(url), true, url);
    assert.equal((await req('erin', 'GET', `/contacts/${erinView.contact_id}`)).json().contact.in_call, true);
    // dave blocks erin: erin no longer learns where dave is, on any of those paths.
    assert.equal((await add('dave', { contact_user_id: ids.erin, is_blocked: true })).statusCode, 201);
    for (const url of paths) assert.equal(await daveInCall(url), false, url);
    assert.equal((await req('erin', 'GET', `/contacts/${erinView.contact_id}`)).json().contact.in_call, false);
    await t.ctx.db.privileged((sql) => sql.query(`UPDATE calls SET status = 'ended' WHERE call_id = $1`, [callId]));
  });

  it('authorization matrix: owner, other user, anonymous', async () => {
    const mine = (await add('bob', { contact_user_id: ids.carol })).json();
    const url = `/contacts/${mine.contact_id}`;
    const cases: Array<[string | null, string, string, unknown, number]> = [
      ['bob', 'GET', url, undefined, 200],
      ['mallory', 'GET', url, undefined, 404],
      [null, 'GET', url, undefined, 401],
      ['mallory', 'PUT', url, { nickname: 'x' }, 404],
      [null, 'PUT', url, { nickname: 'x' }, 401],
      ['bob', 'PUT', url, { nickname: 'Caz' }, 200],
      [null, 'GET', '/contacts', undefined, 401],
      [null, 'POST', '/contacts', { contact_user_id: ids.carol }, 401],
      [null, 'POST', '/contacts', { bogus: 1 }, 401],
      ['mallory', 'DELETE', url, undefined, 404],
      [null, 'DELETE', url, undefined, 401],
      ['bob', 'DELETE', url, undefined, 204],
      ['bob', 'DELETE', url, undefined, 404],
      ['bob', 'GET', '/contacts/not-a-uuid', undefined, 400],
    ];
    for (const [who, method, path, body, status] of cases) {
      const res = await req(who, method, path, body);
      assert.equal(res.statusCode, status, `${who ?? 'anonymous'} ${method} ${path}: ${res.body}`);
    }
    // mallory's list never shows bob's contacts.
    const list = (await req('mallory', 'GET', '/contacts')).json().contacts;
    assert.ok(list.every((c: { contact_id: string }) => c.contact_id !== mine.contact_id));
  });
});
