// Invite links' clicks and unique visitors per day (migration 014): counted by the
// public preview GET /join/{code}, read by the link's creator only, never an address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runLinksCleanup } from '../src/jobs/links-cleanup.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('invite link stats per day', () => {
  let t: TestApp;
  let callId: string;

  async function req(name: string | null, url: string, o: { ip?: string; ua?: string; method?: string; payload?: object } = {}) {
    const headers: Record<string, string> = name ? await t.auth(name) : {};
    if (o.ua) headers['user-agent'] = o.ua;
    const res = await t.app.inject({
      method: (o.method ?? 'GET') as 'GET',
      url: `/api/v1${url}`,
      headers,
      payload: o.payload,
      remoteAddress: o.ip ?? '127.0.0.1',
    });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  }
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    t.ctx.db.privileged(async (s) => (await s.query(text, params)).rows as T[]);
  const utcDay = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

  before(async () => {
    t = await startTestApp();
    for (const n of ['alice', 'carol', 'erin']) await req(n, '/users/me');
    callId = (await req('alice', '/rooms', { method: 'POST', payload: { name: 'Link stats', invitees: ['@erin.aura'] } })).body.call_id;
  });
  after(() => t.close());

  const newLink = async () => {
    const res = await req('alice', '/links', { method: 'POST', payload: { call_id: callId, title: 'Stats' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { link_id: string; short_code: string };
  };
  const visitor = (code: string, who: 'A' | 'B') =>
    req(null, `/join/${code}`, who === 'A' ? { ip: '198.51.100.4', ua: 'ua-A' } : { ip: '198.51.100.9', ua: 'ua-B' });

  it('counts clicks per day and each visitor once a day, from two visitor identities', async () => {
    const link = await newLink();
    for (const who of ['A', 'A', 'B', 'A'] as const) assert.equal((await visitor(link.short_code, who)).status, 200);
    const today = utcDay();
    let stats = await req('alice', `/links/${link.link_id}/stats`);
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    assert.deepEqual(stats.body, { link_id: link.link_id, days: [{ day: today, clicks: 4, unique_visitors: 2 }] });

    // Those visits become yesterday's (the day rows and visitor hashes move back one day)
    // and the daily cleanup runs: today A is a new unique visitor again, once.
    await sql(`UPDATE link_visit_days SET day = day - 1 WHERE link_id = $1`, [link.link_id]);
    await sql(`UPDATE link_visitors SET day = day - 1 WHERE link_id = $1`, [link.link_id]);
    assert.equal((await runLinksCleanup(t.ctx.db)).ran, true);
    for (const who of ['A', 'A'] as const) await visitor(link.short_code, who);

    const yesterday = utcDay(-1);
    stats = await req('alice', `/links/${link.link_id}/stats`);
    assert.deepEqual(stats.body.days, [
      { day: yesterday, clicks: 4, unique_visitors: 2 },
      { day: today, clicks: 2, unique_visitors: 1 },
    ]);
    const totals = (await req('alice', `/links/${link.link_id}`)).body;
    assert.deepEqual([totals.total_clicks, totals.unique_visitors], [6, 3], 'the day rows add up to the totals');
    // from/to are inclusive UTC days
    assert.deepEqual((await req('alice', `/links/${link.link_id}/stats?from=${today}&to=${today}`)).body.days, [
      { day: today, clicks: 2, unique_visitors: 1 },
    ]);
    assert.deepEqual((await req('alice', `/links/${link.link_id}/stats?to=${yesterday}`)).body.days, [
      { day: yesterday, clicks: 4, unique_visitors: 2 },
    ]);
    // Counts only: nothing of an address or user agent is kept by day.
    const dump = JSON.stringify(await sql('SELECT * FROM link_visit_days'));
    assert.ok(!dump.includes('198.51.100') && !dump.includes('ua-A'));
    assert.deepEqual(Object.keys((await sql('SELECT * FROM link_visit_days LIMIT 1'))[0]!).sort(),
      ['clicks', 'day', 'link_id', 'unique_visitors']);
  });

  it("is the link creator's only: 404 to a stranger and to the call's invitee, 401 anonymous, 400 on bad dates", async () => {
    const link = await newLink();
    await visitor(link.short_code, 'B');
    const url = `/links/${link.link_id}/stats`;
    assert.equal((await req('alice', url)).status, 200);
    for (const who of ['carol', 'erin']) {
      const res = await req(who, url);
      assert.equal(res.status, 404, who);
      assert.equal(res.body.error.code, 'NOT_FOUND');
    }
    assert.equal((await req(null, url)).status, 401);
    assert.equal((await req('alice', '/links/00000000-0000-4000-8000-000000000000/stats')).status, 404);
    for (const q of ['from=yesterday', 'to=2024-02-30', `from=${utcDay()}&to=${utcDay(-1)}`, 'from=2000-01-01&to=2024-01-01', 'x=1']) {
      const res = await req('alice', `${url}?${q}`);
      assert.equal(res.status, 400, q);
      assert.ok(res.body.error.code, q);
    }
  });

  it('RLS: with no WHERE clause a user reads only the days of their own links', async () => {
    const link = await newLink();
    await visitor(link.short_code, 'A');
    const read = (name: string) =>
      t.ctx.db.asUser(t.userId(name), async (s) => (await s.query<{ link_id: string }>('SELECT link_id FROM link_visit_days')).rows);
    assert.ok((await read('alice')).some((r) => r.link_id === link.link_id));
    assert.deepEqual(await read('carol'), []);
    assert.deepEqual(await read('erin'), []);
    await assert.rejects(
      t.ctx.db.asUser(t.userId('alice'), (s) => s.query(`UPDATE link_visit_days SET clicks = 0`)),
      /permission denied/,
    );
  });
});
