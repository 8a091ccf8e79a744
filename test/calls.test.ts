// Call history: visible to the creator and participants only, filtered and paged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { deliver, eventJson, uid } from './helpers/webhooks.ts';

describe('calls', () => {
  let t: TestApp;
  const api = async (user: string, method: string, url: string, payload?: object) => {
    const res = await t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: await t.auth(user), payload });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };

  before(async () => {
    t = await startTestApp();
    for (const u of ['alice', 'bob', 'carol', 'erin']) await api(u, 'GET', '/users/me');
  });
  after(() => t?.close());

  it('shows a call to its creator and participants, not to invitees or the public', async () => {
    const room = (await api('alice', 'POST', '/rooms', { name: 'History', privacy: 'public', invitees: ['@carol.aura'] })).body;
    await api('bob', 'POST', `/rooms/${room.call_id}/token`, {});
    const joined = { sid: uid('PA'), identity: t.userId('bob'), name: 'Bob', joinedAtMs: Date.now() - 5000 };
    await deliver(t, eventJson({ event: 'participant_joined', createdAt: Math.floor(Date.now() / 1000), room: { name: room.room_name }, participant: joined }));

    const mine = await api('alice', 'GET', `/calls/${room.call_id}`);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.status, 'active');
    assert.equal(mine.body.participant_count, 1);
    assert.equal(mine.body.files_shared, 0);
    assert.equal(mine.body.room_name, room.room_name);
    assert.deepEqual(mine.body.creator, { user_id: t.userId('alice'), display_name: 'Alice', aura_id: '@alice.aura' });
    assert.ok(mine.body.started_at);
    assert.equal((await api('bob', 'GET', `/calls/${room.call_id}`)).status, 200);
    assert.equal((await api('carol', 'GET', `/calls/${room.call_id}`)).status, 404, 'an invitee who never joined');
    assert.equal((await api('erin', 'GET', `/calls/${room.call_id}`)).status, 404, 'a public room is not history');
    assert.equal((await api('erin', 'GET', `/calls/${room.call_id}/participants`)).status, 404);
    assert.equal((await api('erin', 'GET', '/calls/not-a-uuid')).status, 400);

    const { participants } = (await api('bob', 'GET', `/calls/${room.call_id}/participants`)).body;
    assert.equal(participants.length, 1);
    const p = participants[0];
    assert.equal(p.identity, t.userId('bob'));
    assert.equal(p.status, 'connected');
    for (const k of ['audio_enabled', 'video_enabled', 'screen_sharing']) assert.equal(p[k], false, k);
    for (const k of ['avg_quality_score', 'packet_loss_percent', 'avg_latency_ms', 'connection_type', 'left_at']) {
      assert.equal(p[k], null, k);
    }
    assert.ok(!(await api('erin', 'GET', '/calls')).body.calls.some((c: { call_id: string }) => c.call_id === room.call_id));
  });

  it('filters by status, type and time and pages newest first', async () => {
    const ids: string[] = [];
    for (const call_type of ['group', 'conference', 'group', 'broadcast', 'group']) {
      ids.push((await api('erin', 'POST', '/rooms', { name: `E ${call_type}`, call_type })).body.call_id);
    }
    await api('erin', 'DELETE', `/rooms/${ids[0]}`);
    const all = (await api('erin', 'GET', '/calls')).body.calls;
    assert.deepEqual(all.map((c: { call_id: string }) => c.call_id), [...ids].reverse());
    const ended = (await api('erin', 'GET', '/calls?status=ended')).body.calls;
    assert.deepEqual(ended.map((c: { call_id: string }) => c.call_id), [ids[0]]);
    assert.equal(ended[0].duration_seconds >= 0, true);
    assert.ok(ended[0].ended_at);
    const groups = (await api('erin', 'GET', '/calls?call_type=group&status=waiting')).body.calls;
    assert.deepEqual(groups.map((c: { call_id: string }) => c.call_id), [ids[4], ids[2]]);
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.equal((await api('erin', 'GET', `/calls?from=${future}`)).body.calls.length, 0);
    assert.equal((await api('erin', 'GET', `/calls?to=${future}`)).body.calls.length, 5);
    assert.equal((await api('erin', 'GET', `/calls?from=${future}&to=2000-01-01T00:00:00Z`)).status, 400);
    assert.equal((await api('erin', 'GET', '/calls?status=bogus')).status, 400);
    // status=all is no filter, as on /rooms: the ended call and the waiting ones alike.
    const everything = await api('erin', 'GET', '/calls?status=all');
    assert.equal(everything.status, 200);
    assert.deepEqual(everything.body.calls.map((c: { call_id: string }) => c.call_id), [...ids].reverse());
    const allGroups = (await api('erin', 'GET', '/calls?status=all&call_type=group')).body.calls;
    assert.deepEqual(allGroups.map((c: { call_id: string }) => c.call_id), [ids[4], ids[2], ids[0]]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { calls: Array<{ call_id: string }>; next_cursor: string | null } } = await api(
        'erin',
        'GET',
        `/calls?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      seen.push(...res.body.calls.map((c) => c.call_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
  });

  it('pages the participants of a call with next_cursor, in join order', async () => {
    const room = (await api('alice', 'POST', '/rooms', { name: 'Crowd', privacy: 'public' })).body;
    const people = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const u of people) await api(u, 'POST', `/rooms/${room.call_id}/token`, {});
    // p1..p3 connect; p2 and p3 at the same instant, so the participant_id breaks the tie.
    const at = Date.now() - 10_000;
    for (const [u, joinedAtMs] of [['p1', at], ['p2', at + 1000], ['p3', at + 1000]] as const) {
      const participant = { sid: uid('PA'), identity: t.userId(u), name: u, joinedAtMs };
      await deliver(t, eventJson({ event: 'participant_joined', createdAt: Math.floor(Date.now() / 1000), room: { name: room.room_name }, participant }));
    }
    type Page = { participants: Array<{ participant_id: string; identity: string; status: string }>; next_cursor: string | null };
    const whole = await api('alice', 'GET', `/calls/${room.call_id}/participants?limit=100`);
    assert.equal(whole.status, 200);
    const full = whole.body as Page;
    assert.equal(full.next_cursor, null);
    assert.equal(full.participants.length, 5);
    assert.deepEqual(new Set(full.participants.map((p) => p.identity)), new Set(people.map((u) => t.userId(u))));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: Page } = await api(
        'alice',
        'GET',
        `/calls/${room.call_id}/participants?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(res.status, 200);
      assert.ok(res.body.participants.length <= 2);
      seen.push(...res.body.participants.map((p) => p.participant_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, full.participants.map((p) => p.participant_id), 'pages join up to the whole list, same order');

    const base = `/calls/${room.call_id}/participants`;
    assert.equal((await api('alice', 'GET', `${base}?cursor=not-a-cursor`)).body.error.code, 'VALIDATION_ERROR');
    assert.equal((await api('alice', 'GET', `${base}?limit=0`)).status, 400);
    assert.equal((await api('alice', 'GET', `${base}?limit=101`)).status, 400);
    assert.equal((await api('erin', 'GET', `${base}?limit=2`)).status, 404);
  });
});
