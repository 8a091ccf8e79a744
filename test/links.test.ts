import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenVerifier } from 'livekit-server-sdk';
import { runLinksCleanup } from '../src/jobs/links-cleanup.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('invite links', () => {
  let t: TestApp;
  let room: { call_id: string; room_name: string };
  const verify = (token: string) => new TokenVerifier(t.config.livekit.apiKey, t.config.livekit.apiSecret).verify(token);

  type Opts = { ip?: string; ua?: string };
  async function req(name: string | null, method: string, url: string, payload?: unknown, o: Opts = {}) {
    const headers: Record<string, string> = name ? await t.auth(name) : {};
    if (o.ua) headers['user-agent'] = o.ua;
    const res = await t.app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers,
      payload: payload as object,
      remoteAddress: o.ip ?? '127.0.0.1',
    });
    return { status: res.statusCode, body: res.body ? res.json() : null, headers: res.headers };
  }
  const makeLink = async (body: Record<string, unknown>, callId = room.call_id) => {
    const res = await req('alice', 'POST', '/links', { call_id: callId, ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    t.ctx.db.privileged(async (s) => (await s.query(text, params)).rows as T[]);

  before(async () => {
    t = await startTestApp();
    for (const n of ['alice', 'bob', 'carol', 'dave', 'erin']) await req(n, 'GET', '/users/me');
    room = (await req('alice', 'POST', '/rooms', { name: 'Links', invitees: ['@erin.aura'] })).body;
    // alice's contacts: bob (ok), dave (blocked). carol is a stranger.
    await req('alice', 'POST', '/contacts', { aura_id: '@bob.aura' });
    await req('alice', 'POST', '/contacts', { aura_id: '@dave.aura', is_blocked: true });
  });
  after(() => t.close());

  it('creates links with an unguessable short code; only the creator may', async () => {
    const link = await makeLink({ title: 'Standup', max_uses: 5, expires_in_seconds: 3600, default_role: 'viewer' });
    assert.match(link.short_code, /^[A-Za-z0-9_-]{10,}$/);
    assert.equal(link.url, `${t.config.publicBaseUrl}/api/v1/join/${link.short_code}`);
    assert.equal(link.access_type, 'public');
    assert.equal(link.current_uses, 0);
    assert.equal(link.total_clicks, 0);
    assert.ok(Date.parse(link.expires_at) > Date.now());
    const codes = new Set(await Promise.all(Array.from({ length: 20 }, async () => (await makeLink({})).short_code)));
    assert.equal(codes.size, 20);

    assert.equal((await req('erin', 'POST', '/links', { call_id: room.call_id })).status, 403, 'invitee sees, may not link');
    assert.equal((await req('carol', 'POST', '/links', { call_id: room.call_id })).status, 404);
    assert.equal((await req(null, 'POST', '/links', { call_id: room.call_id })).status, 401);
    assert.equal((await req('alice', 'POST', '/links', { call_id: room.call_id, access_type: 'password' })).status, 400);
    assert.equal((await req('alice', 'POST', '/links', { call_id: room.call_id, password: 'abcd' })).status, 400);
    assert.equal((await req('alice', 'POST', '/links', { call_id: room.call_id, max_uses: 0 })).status, 400);
  });

  it('authorization matrix over list/get/update/delete', async () => {
    const link = await makeLink({});
    const url = `/links/${link.link_id}`;
    const cases: Array<[string | null, string, string, unknown, number]> = [
      ['alice', 'GET', url, undefined, 200],
      ['erin', 'GET', url, undefined, 404],
      ['carol', 'GET', url, undefined, 404],
      [null, 'GET', url, undefined, 401],
      ['carol', 'PUT', url, { title: 'x' }, 404],
      [null, 'PUT', url, { title: 'x' }, 401],
      ['alice', 'PUT', url, { title: 'Renamed', max_uses: 2 }, 200],
      ['alice', 'PUT', url, {}, 400],
      ['alice', 'PUT', url, { access_type: 'password' }, 400],
      [null, 'GET', '/links', undefined, 401],
      ['carol', 'DELETE', url, undefined, 404],
      [null, 'DELETE', url, undefined, 401],
      ['alice', 'DELETE', url, undefined, 204],
      ['alice', 'GET', url, undefined, 404],
    ];
    for (const [who, method, path, body, status] of cases) {
      const res = await req(who, method, path, body);
      assert.equal(res.status, status, `${who ?? 'anonymous'} ${method} ${path}: ${JSON.stringify(res.body)}`);
    }
    const mine = await req('alice', 'GET', `/links?call_id=${room.call_id}&limit=2`);
    assert.equal(mine.body.links.length, 2);
    assert.ok(mine.body.next_cursor);
    assert.deepEqual((await req('carol', 'GET', '/links')).body.links, []);
  });

  it('preview counts clicks and daily unique visitors, storing no address', async () => {
    const link = await makeLink({ title: 'Preview me' });
    const p = await req(null, 'GET', `/join/${link.short_code}`, undefined, { ip: '203.0.113.7', ua: 'ua-1' });
    assert.equal(p.status, 200);
    assert.deepEqual(p.body, {
      title: 'Preview me', description: null, name: 'Links', call_type: 'group', access_type: 'public',
      requires_password: false, require_approval: false, expires_at: null,
    });
    await req(null, 'GET', `/join/${link.short_code}`, undefined, { ip: '203.0.113.7', ua: 'ua-1' });
    await req('bob', 'GET', `/join/${link.short_code}`, undefined, { ip: '203.0.113.7', ua: 'ua-2' });
    const stats = (await req('alice', 'GET', `/links/${link.link_id}`)).body;
    assert.equal(stats.total_clicks, 3);
    assert.equal(stats.unique_visitors, 2);
    const dump = JSON.stringify(await sql('SELECT * FROM link_visitors'));
    assert.ok(!dump.includes('203.0.113.7'));
    assert.equal((await req(null, 'GET', '/join/doesnotexist1')).status, 404);
    assert.equal((await req(null, 'GET', '/join/bad')).status, 400);
  });

  it('a guest joins with the default role; a viewer token cannot publish; a participant record exists', async () => {
    const link = await makeLink({ default_role: 'viewer' });
    const res = await req(null, 'POST', `/join/${link.short_code}`, { display_name: 'Guest Gary' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.identity, /^guest-[A-Za-z0-9_-]{8,}$/);
    assert.equal(res.body.role, 'viewer');
    assert.equal(res.body.display_name, 'Guest Gary');
    assert.equal(res.body.call_id, room.call_id);
    const claims = await verify(res.body.token);
    assert.equal(claims.sub, res.body.identity);
    assert.equal(claims.video?.room, room.room_name);
    assert.equal(claims.video?.canPublish, false);
    const [p] = await sql('SELECT user_id, identity, role FROM call_participants WHERE participant_id = $1', [res.body.participant_id]);
    assert.deepEqual(p, { user_id: null, identity: res.body.identity, role: 'viewer' });
    assert.equal((await req(null, 'POST', `/join/${link.short_code}`, {})).status, 400, 'guests must give a name');
    const stats = (await req('alice', 'GET', `/links/${link.link_id}`)).body;
    assert.equal(stats.current_uses, 1);
    assert.ok(stats.last_used_at);
  });

  it('a signed-in user joins as themselves and then sees the private room', async () => {
    const link = await makeLink({});
    assert.equal((await req('carol', 'GET', `/rooms/${room.call_id}`)).status, 404);
    const res = await req('carol', 'POST', `/join/${link.short_code}`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.identity, t.userId('carol'));
    assert.equal(res.body.display_name, 'Carol');
    assert.equal(res.body.role, 'participant');
    assert.equal((await verify(res.body.token)).video?.canPublish, true);
    assert.equal((await req('carol', 'GET', `/rooms/${room.call_id}`)).status, 200);
  });

  it('concurrent joins never exceed max_uses', async () => {
    const link = await makeLink({ max_uses: 3 });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => req(null, 'POST', `/join/${link.short_code}`, { display_name: `g${i}` })),
    );
    const codes = results.map((r) => r.status).sort();
    assert.deepEqual(codes, [200, 200, 200, ...Array(9).fill(410)]);
    assert.ok(results.filter((r) => r.status === 410).every((r) => r.body.error.code === 'LINK_GONE'));
    assert.equal((await req('alice', 'GET', `/links/${link.link_id}`)).body.current_uses, 3);
    assert.equal((await req(null, 'GET', `/join/${link.short_code}`)).status, 410);
  });

  it('expired and deactivated links are gone (410)', async () => {
    const expired = await makeLink({});
    await sql(`UPDATE shareable_links SET expires_at = now() - interval '1 second' WHERE link_id = $1`, [expired.link_id]);
    assert.equal((await req(null, 'POST', `/join/${expired.short_code}`, { display_name: 'x' })).status, 410);
    const off = await makeLink({});
    assert.equal((await req('alice', 'PUT', `/links/${off.link_id}`, { is_active: false })).status, 200);
    const res = await req(null, 'POST', `/join/${off.short_code}`, { display_name: 'x' });
    assert.equal(res.status, 410);
    assert.equal(res.body.error.code, 'LINK_GONE');
    assert.equal((await req(null, 'POST', '/join/doesnotexist1', { display_name: 'x' })).status, 404);
  });

  it('password links: hashed, checked, and brute force throttled per link and client', async () => {
    const link = await makeLink({ access_type: 'password', password: 'correct horse' });
    const [row] = await sql<{ password_hash: string }>('SELECT password_hash FROM shareable_links WHERE link_id = $1', [link.link_id]);
    assert.match(row!.password_hash, /^scrypt\$/);
    assert.ok(!('password_hash' in link));
    const join = (password: string | undefined, ip: string) =>
      req(null, 'POST', `/join/${link.short_code}`, { display_name: 'g', ...(password ? { password } : {}) }, { ip });

    const missing = await join(undefined, '198.51.100.1');
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.code, 'INVALID_PASSWORD');
    assert.equal((await join('correct horse', '198.51.100.1')).status, 200, 'a success clears the count');

    const limit = t.config.links.passwordAttemptsPerWindow;
    for (let i = 0; i < limit; i++) {
      const r = await join(`guess-${i}`, '198.51.100.2');
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'INVALID_PASSWORD');
    }
    const throttled = await join('correct horse', '198.51.100.2');
    assert.equal(throttled.status, 429, 'even the right password waits');
    assert.equal(throttled.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(throttled.headers['retry-after']) > 0);
    assert.equal((await join('correct horse', '198.51.100.3')).status, 200, 'another client is not affected');

    // Parallel guesses are counted before checking: no more than the limit get through.
    const burst = await Promise.all(Array.from({ length: 3 * limit }, (_, i) => join(`p-${i}`, '198.51.100.4')));
    assert.equal(burst.filter((r) => r.status === 403).length, limit);
    assert.equal(burst.filter((r) => r.status === 429).length, 2 * limit);
  });

  it('restricted links admit signed-in, unblocked contacts of the creator only', async () => {
    const link = await makeLink({ access_type: 'restricted' });
    const join = (who: string | null) => req(who, 'POST', `/join/${link.short_code}`, { display_name: 'x' });
    assert.equal((await join(null)).status, 401);
    assert.equal((await join('carol')).status, 403, 'not a contact');
    assert.equal((await join('dave')).status, 403, 'a contact alice blocked');
    assert.equal((await join('bob')).status, 200);
    assert.equal((await join('alice')).body.role, 'host', 'the creator joins as host');
  });

  it('a user who blocked you cannot be invited by you (403)', async () => {
    await req('bob', 'POST', '/contacts', { aura_id: '@carol.aura', is_blocked: true });
    const res = await req('carol', 'POST', '/rooms', { name: 'Party', invitees: ['@bob.aura'] });
    assert.equal(res.status, 403);
    assert.equal((await req('carol', 'POST', '/rooms', { name: 'Party', invitees: ['@alice.aura'] })).status, 201);
  });

  it('a refused grant gives the use back: full room 403, ended call 409', async () => {
    const small = (await req('alice', 'POST', '/rooms', { name: 'Small', max_participants: 1 })).body;
    const link = await makeLink({ max_uses: 1 }, small.call_id);
    await sql(`INSERT INTO call_participants (call_id, user_id, identity, status) VALUES ($1, $2, $3, 'connected')`, [
      small.call_id, t.userId('alice'), t.userId('alice'),
    ]);
    const full = await req(null, 'POST', `/join/${link.short_code}`, { display_name: 'late' });
    assert.equal(full.status, 403);
    assert.equal(full.body.error.code, 'ROOM_FULL');
    assert.equal((await req('alice', 'GET', `/links/${link.link_id}`)).body.current_uses, 0);
    await sql(`UPDATE calls SET status = 'ended' WHERE call_id = $1`, [small.call_id]);
    const ended = await req(null, 'POST', `/join/${link.short_code}`, { display_name: 'late' });
    assert.equal(ended.status, 409);
    assert.equal(ended.body.error.code, 'CALL_ENDED');
  });

  it("the cleanup job deletes past days' salts and visitor hashes, keeping today's", async () => {
    const link = await makeLink({});
    await req(null, 'GET', `/join/${link.short_code}`);
    await sql(`INSERT INTO link_visit_salts (day, salt) VALUES (current_date - 2, '\\x00')`);
    await sql(`INSERT INTO link_visitors (link_id, day, visitor) VALUES ($1, current_date - 2, '\\x01')`, [link.link_id]);
    const res = await runLinksCleanup(t.ctx.db);
    assert.equal(res.ran, true);
    const [left] = await sql(`SELECT (SELECT count(*)::int FROM link_visit_salts WHERE day < current_date) AS old_salts,
      (SELECT count(*)::int FROM link_visitors WHERE day < current_date) AS old_visitors,
      (SELECT count(*)::int FROM link_visitors WHERE link_id = $1) AS kept`, [link.link_id]);
    assert.deepEqual(left, { old_salts: 0, old_visitors: 0, kept: 1 });
    assert.equal((await req('alice', 'GET', `/links/${link.link_id}`)).body.unique_visitors, 1, 'counts stay');
  });
});
