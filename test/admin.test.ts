// The operator API: who gets in (authorization matrix: only verified operators; every
// one else, forged and expired tokens included, gets the 404 of an unknown route),
// what each endpoint answers, and that hostile input never makes it fail.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearerOf, signToken, unsignedOperatorToken } from './helpers/operators.ts';

describe('operator API', () => {
  let t: TestApp;
  const id = (n: string) => t.userId(n);
  let callId: string;
  let otherCallId: string;
  const tokens: Record<string, string | null> = {};

  const get = (who: string, url: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: tokens[who] ? bearerOf(tokens[who]!) : {} });

  before(async () => {
    t = await startTestApp({ env: { OPERATOR_USER_IDS: '' } });
    const secret = t.config.auth.jwtSecret;
    // olga is an operator by the configured id list: a second app shares the database.
    tokens.anonymous = null;
    tokens.alice = await t.token('alice');
    tokens.mallory = await t.token('mallory');
    tokens.opal = await signToken({ secret, name: 'opal', appMetadata: { role: 'operator' } });
    tokens.opal_list = await signToken({ secret, name: 'opal2', appMetadata: { role: ['viewer', 'operator'] } });
    tokens.forged = await signToken({ secret: 'not-the-secret-0123456789abcdef-0123456789', name: 'opal', appMetadata: { role: 'operator' } });
    tokens.expired = await signToken({ secret, name: 'opal', appMetadata: { role: 'operator' }, expiresIn: -600 });
    tokens.unsigned = unsignedOperatorToken('opal');
    tokens.self_made = await signToken({ secret, name: 'mallory', userMetadata: { role: 'operator' } });
    tokens.other_value = await signToken({ secret, name: 'mallory', appMetadata: { role: 'admin' } });
    for (const n of ['alice', 'bob', 'mallory']) {
      await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: await t.auth(n) });
    }
    await get('opal', '/users/me');
    await t.ctx.db.privileged(async (sql) => {
      const c = await sql.query(
        `INSERT INTO calls (room_name, name, created_by, status, call_type, max_participants, started_at) VALUES
           ('adm-standup', 'Morning standup', $1, 'active', 'group', 50, now() - interval '20 minutes'),
           ('adm-retro', 'Retro', $2, 'ended', 'one_to_one', 2, now() - interval '2 days')
         RETURNING call_id`,
        [id('alice'), id('bob')],
      );
      callId = c.rows[0].call_id;
      otherCallId = c.rows[1].call_id;
      const p = await sql.query(
        `INSERT INTO call_participants (call_id, user_id, identity, participant_sid, display_name, status, joined_at, left_at,
            disconnect_reason)
         VALUES ($1, $2::uuid, $2::text, 'PA_a', 'Alice', 'connected', now() - interval '15 minutes', NULL, NULL),
                ($1, $3::uuid, $3::text, 'PA_b', 'Bobby Tables', 'left', now() - interval '14 minutes', now() - interval '4 minutes',
                 'CLIENT_INITIATED')
         RETURNING participant_id`,
        [callId, id('alice'), id('bob')],
      );
      const [pa, pb] = [p.rows[0].participant_id, p.rows[1].participant_id];
      await sql.query(
        `INSERT INTO participant_media_events (call_id, participant_id, track_sid, source, action, occurred_at) VALUES
           ($1, $2, 'TR_mic', 'microphone', 'published', now() - interval '14 minutes'),
           ($1, $2, 'TR_mic', 'microphone', 'unpublished', now() - interval '10 minutes')`,
        [callId, pb],
      );
      await sql.query(
        `INSERT INTO quality_metrics (call_id, participant_id, quality_score, latency_ms, packet_loss_percent)
         VALUES ($1, $2, 4.2, 40, 0.5), ($1, $3, 2.1, 300, 6)`,
        [callId, pa, pb],
      );
      await sql.query(
        `INSERT INTO files (call_id, room_name, uploader_id, file_name, storage_path, storage_bucket, file_size, scan_status)
         VALUES ($1, 'adm-standup', $2, 'notes.pdf', 'adm/notes', 'bk', 1234, 'clean')`,
        [callId, id('alice')],
      );
      await sql.query(
        `INSERT INTO shareable_links (short_code, call_id, created_by, access_type, password_hash, total_clicks, unique_visitors)
         VALUES ('admlinkcode01', $1, $2, 'password', 'scrypt$secret-hash', 7, 3)`,
        [callId, id('alice')],
      );
      await sql.query(
        `INSERT INTO link_visit_days (link_id, day, clicks, unique_visitors)
         SELECT link_id, d, c, u FROM shareable_links,
                (VALUES (DATE '2026-01-02', 5, 2), (DATE '2026-01-01', 2, 1)) AS v (d, c, u)
          WHERE short_code = 'admlinkcode01'`,
      );
      await sql.query(
        `INSERT INTO webhook_events (event_id, event, room_name, received_at) VALUES
           ('EV_old', 'participant_joined', 'adm-standup', now() - interval '2 hours'),
           ('EV_new', 'participant_left', 'adm-standup', now() - interval '1 minute')`,
      );
      await sql.query(
        `INSERT INTO reconcile_runs (started_at, finished_at, calls, sessions_left) VALUES (now() - interval '31 seconds', now() - interval '30 seconds', 1, 1)`,
      );
    });
    // A refused delivery, recorded through the real webhook route.
    await t.app.inject({ method: 'POST', url: '/api/v1/webhooks/livekit', payload: '{}', headers: { 'content-type': 'application/webhook+json', authorization: 'forged' } });
  });
  after(() => t.close());

  const endpoints = () => [
    '/admin/calls',
    '/admin/calls?q=standup&limit=abc',
    `/admin/calls/${callId}`,
    `/admin/calls/${otherCallId}`,
    `/admin/calls/${callId}/quality/participants`,
    `/admin/calls/${otherCallId}/quality/participants`,
    '/admin/rooms/live',
    '/admin/usage',
    '/admin/usage?from=2024-01-01&to=2024-01-31',
    '/admin/usage/rooms',
    '/admin/usage/users',
    '/admin/quality/worst?metric=rtt',
    '/admin/livekit',
  ];

  it('authorization matrix: only verified operators; everyone else gets the 404 of an unknown route', async () => {
    const expected: Record<string, number> = {
      anonymous: 404, alice: 404, mallory: 404, forged: 404, expired: 404, unsigned: 404, self_made: 404,
      other_value: 404, opal: 200, opal_list: 200,
    };
    const unknown = await t.app.inject({ method: 'GET', url: '/api/v1/admin/calls' });
    assert.equal(unknown.json().error.code, 'NOT_FOUND');
    const failures: string[] = [];
    for (const [who, status] of Object.entries(expected)) {
      for (const url of endpoints()) {
        const res = await get(who, url);
        // A bad query from an operator is their 400; from anyone else still a 404.
        const want = status === 200 && url.includes('limit=abc') ? 400 : status;
        if (res.statusCode !== want) failures.push(`${who} ${url}: ${res.statusCode} (want ${want})`);
        if (want === 404) {
          const body = res.json();
          const path = url.split('?')[0];
          if (body.error?.message !== `Route GET /api/v1${path} not found`) failures.push(`${who} ${url}: ${res.body}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('an operator listed by user id is one too, and an operator acts as nobody else in the user API', async () => {
    const listed = await startTestApp({ database: t.database, env: { OPERATOR_USER_IDS: id('olga'), OPERATOR_CLAIM: 'none' } });
    try {
      const olga = await listed.auth('olga');
      const res = await listed.app.inject({ method: 'GET', url: '/api/v1/admin/calls', headers: olga });
      assert.equal(res.statusCode, 200, res.body);
      // With the claim switched off, the claim no longer counts.
      const opal = await listed.app.inject({ method: 'GET', url: '/api/v1/admin/calls', headers: bearerOf(tokens.opal!) });
      assert.equal(opal.statusCode, 404);
    } finally {
      await listed.close();
    }
    // The user API answers an operator as the user they are: alice's call is not theirs.
    assert.equal((await get('opal', `/calls/${callId}`)).statusCode, 404);
    assert.equal((await get('opal', `/calls/${callId}/participants`)).statusCode, 404);
  });

  it('lists every call with filters, search and a keyset cursor', async () => {
    let res = await get('opal', '/admin/calls');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().calls.map((c: { room_name: string }) => c.room_name).sort(), ['adm-retro', 'adm-standup']);
    const search = async (q: string) =>
      (await get('opal', `/admin/calls?${q}`)).json().calls.map((c: { room_name: string }) => c.room_name);
    assert.deepEqual(await search('status=ended'), ['adm-retro']);
    assert.deepEqual(await search('call_type=group'), ['adm-standup']);
    assert.deepEqual(await search('room=adm-retro'), ['adm-retro']);
    assert.deepEqual(await search('q=MORNING'), ['adm-standup'], 'title');
    assert.deepEqual(await search('q=retr'), ['adm-retro'], 'room name');
    assert.deepEqual(await search('q=bobby'), ['adm-standup'], 'participant name');
    assert.deepEqual(await search('q=%25'), [], 'a % is a literal');
    assert.deepEqual(await search(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), []);
    res = await get('opal', '/admin/calls?limit=1');
    const first = res.json();
    assert.equal(first.calls.length, 1);
    assert.ok(first.next_cursor);
    const second = (await get('opal', `/admin/calls?limit=1&cursor=${first.next_cursor}`)).json();
    assert.equal(second.calls.length, 1);
    assert.notEqual(second.calls[0].call_id, first.calls[0].call_id);
    assert.equal(second.next_cursor, null);
    assert.equal((await get('opal', '/admin/calls?cursor=bad!')).statusCode, 400);
  });

  it("shows any call's detail: participants, timeline, quality, files and links", async () => {
    const res = await get('opal', `/admin/calls/${callId}`);
    assert.equal(res.statusCode, 200, res.body);
    const d = res.json();
    assert.equal(d.call.name, 'Morning standup');
    assert.equal(d.call.sessions, 2);
    assert.equal(d.participants.length, 2);
    const bob = d.timeline.find((p: { display_name: string }) => p.display_name === 'Bobby Tables');
    assert.deepEqual(bob.events.map((e: { type: string }) => e.type), ['joined', 'published', 'unpublished', 'left']);
    assert.equal(bob.events[3].reason, 'CLIENT_INITIATED');
    assert.equal(d.quality.summary.samples, 2);
    assert.equal(d.quality.summary.avg_quality_score, 3.15);
    assert.equal(d.quality.participants.length, 2);
    assert.deepEqual(d.files.map((f: { file_name: string }) => f.file_name), ['notes.pdf']);
    assert.equal(d.links[0].total_clicks, 7);
    assert.equal(d.links[0].unique_visitors, 3);
    assert.deepEqual(d.links[0].days, [
      { day: '2026-01-01', clicks: 2, unique_visitors: 1 },
      { day: '2026-01-02', clicks: 5, unique_visitors: 2 },
    ]);
    assert.ok(!res.body.includes('secret-hash'), 'never the link password hash');
    assert.equal((await get('opal', '/admin/calls/00000000-0000-4000-8000-000000000000')).statusCode, 404);
  });

  it("plots any call's quality per participant, in the shape the call's own people get", async () => {
    const res = await get('opal', `/admin/calls/${callId}/quality/participants`);
    assert.equal(res.statusCode, 200, res.body);
    const q = res.json();
    assert.deepEqual(
      q.participants.map((p: { display_name: string; points: Array<{ mos: number; rtt_ms: number }> }) =>
        [p.display_name, p.points.map((x) => [x.mos, x.rtt_ms])]).sort(),
      [['Alice', [[4.2, 40]]], ['Bobby Tables', [[2.1, 300]]]],
    );
    const mine = await t.app.inject({ url: `/api/v1/calls/${callId}/quality/participants`, headers: await t.auth('alice') });
    assert.equal(mine.statusCode, 200, mine.body);
    assert.deepEqual(q, mine.json());
    // bob's call: the operator reads it; alice, not in it, does not.
    assert.equal((await get('opal', `/admin/calls/${otherCallId}/quality/participants`)).json().participants.length, 0);
    const theirs = await t.app.inject({ url: `/api/v1/calls/${otherCallId}/quality/participants`, headers: await t.auth('alice') });
    assert.equal(theirs.statusCode, 404);
    assert.equal((await get('opal', '/admin/calls/00000000-0000-4000-8000-000000000000/quality/participants')).statusCode, 404);
  });

  it('lists the rooms live now with their connected participants', async () => {
    const res = await get('opal', '/admin/rooms/live');
    assert.equal(res.statusCode, 200, res.body);
    const rooms = res.json().rooms;
    assert.deepEqual(rooms.map((r: { room_name: string }) => r.room_name), ['adm-standup']);
    assert.deepEqual(rooms[0].participants.map((p: { display_name: string }) => p.display_name), ['Alice']);
    assert.equal(rooms[0].participants_total, 1);
    // The join time as the rest of the API writes instants (Date#toISOString).
    const joined = await t.ctx.db.privileged(async (sql) =>
      (await sql.query(`SELECT joined_at FROM call_participants WHERE participant_id = $1`, [rooms[0].participants[0].participant_id])).rows[0].joined_at as Date);
    assert.equal(rooms[0].participants[0].joined_at, joined.toISOString());
  });

  it('lists the first participants of a big live room (20 unless asked), and counts them all', async () => {
    const webinar = await t.ctx.db.privileged(async (sql) => {
      const c = await sql.query(
        `INSERT INTO calls (room_name, name, created_by, status, call_type, max_participants, started_at)
         VALUES ('adm-webinar', 'Webinar', $1, 'active', 'group', 100, now()) RETURNING call_id`,
        [id('bob')],
      );
      await sql.query(
        `INSERT INTO call_participants (call_id, identity, participant_sid, display_name, status, joined_at)
         SELECT $1, 'guest-' || i, 'PG_' || i, 'Guest ' || i, 'connected', now() - make_interval(secs => 60 - i)
           FROM generate_series(1, 60) i`,
        [c.rows[0].call_id],
      );
      return c.rows[0].call_id as string;
    });
    try {
      const room = (await get('opal', '/admin/rooms/live')).json().rooms.find((r: { call_id: string }) => r.call_id === webinar);
      assert.equal(room.participants_total, 60);
      // Earliest joins first: guests 1..20 by default, as many as asked for up to all.
      assert.deepEqual(room.participants.map((p: { display_name: string }) => p.display_name),
        Array.from({ length: 20 }, (_, i) => `Guest ${i + 1}`));
      const more = (await get('opal', '/admin/rooms/live?participants=55')).json().rooms.find((r: { call_id: string }) => r.call_id === webinar);
      assert.deepEqual(more.participants.map((p: { display_name: string }) => p.display_name),
        Array.from({ length: 55 }, (_, i) => `Guest ${i + 1}`));
      assert.equal((await get('opal', '/admin/rooms/live?participants=201')).statusCode, 400);
    } finally {
      await t.ctx.db.privileged(async (sql) => {
        await sql.query(`DELETE FROM call_participants WHERE call_id = $1`, [webinar]);
        await sql.query(`DELETE FROM calls WHERE call_id = $1`, [webinar]);
      });
    }
  });

  it('reports usage now, top rooms and users, and the worst quality', async () => {
    const u = (await get('opal', '/admin/usage')).json();
    assert.equal(u.days.length, 30);
    assert.deepEqual(u.now, { participants: 1, calls: 1 });
    const today = u.days[29];
    // bob's closed 10 minutes plus alice's open session (15 minutes so far).
    assert.ok(today.participant_minutes >= 25 && today.participant_minutes < 27, JSON.stringify(today));
    assert.equal(today.calls, 1);
    assert.equal(today.participations, 2);
    assert.equal(today.peak_concurrent, 2);
    const rooms = (await get('opal', '/admin/usage/rooms')).json().rooms;
    assert.equal(rooms[0].room_name, 'adm-standup');
    const users = (await get('opal', '/admin/usage/users')).json().users;
    assert.deepEqual(users.map((x: { user_id: string }) => x.user_id), [id('alice'), id('bob')]);
    const worst = (await get('opal', '/admin/quality/worst?subject=participants&metric=packet_loss')).json();
    assert.equal(worst.participants[0].display_name, 'Bobby Tables');
    assert.equal(worst.participants[0].avg_packet_loss_percent, 6);
    const calls = (await get('opal', '/admin/quality/worst')).json();
    assert.equal(calls.calls[0].room_name, 'adm-standup');
    assert.equal(calls.calls[0].avg_quality_score, 3.15);
    assert.equal((await get('opal', '/admin/usage?from=2024-02-30')).statusCode, 400);
    assert.equal((await get('opal', '/admin/usage?from=2024-03-02&to=2024-03-01')).statusCode, 400);
    assert.equal((await get('opal', '/admin/usage?from=2000-01-01&to=2024-01-01')).statusCode, 400);
    assert.equal((await get('opal', '/admin/usage?room=no-such-room')).statusCode, 404);
  });

  it('reports the health of the LiveKit link', async () => {
    const res = await get('opal', '/admin/livekit');
    assert.equal(res.statusCode, 200, res.body);
    const h = res.json();
    assert.equal(h.webhooks.last_event, 'participant_left');
    assert.equal(h.webhooks.received_last_hour, 1);
    assert.equal(h.webhooks.received_last_day, 2);
    assert.equal(h.webhook_failures.last_day.signature, 1);
    assert.equal(h.reconciliation.last_day.runs, 1);
    assert.equal(h.reconciliation.recent[0].sessions_left, 1);
  });

  it('documents every admin endpoint in /openapi.json', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/admin/'));
    assert.deepEqual(paths.sort(), [
      '/api/v1/admin/calls', '/api/v1/admin/calls/{call_id}', '/api/v1/admin/calls/{call_id}/quality/participants',
      '/api/v1/admin/livekit', '/api/v1/admin/quality/worst',
      '/api/v1/admin/rooms/live', '/api/v1/admin/usage', '/api/v1/admin/usage/rooms', '/api/v1/admin/usage/users',
    ]);
    for (const p of paths) {
      assert.ok(doc.paths[p].get.summary, `${p} has a summary`);
      assert.ok(doc.paths[p].get.responses['404'], `${p} documents its 404`);
    }
  });

  it('answers hostile input from an operator with a 4xx in the error shape', async () => {
    const bad = ["' OR 1=1 --", 'x'.repeat(10_000), '\u0000', '-1', '[]', '2024-13-01', '9999-99-99'];
    const keys = ['status', 'call_type', 'from', 'to', 'room', 'q', 'limit', 'cursor', 'metric', 'subject', 'user_id'];
    const failures: string[] = [];
    for (const path of ['/admin/calls', '/admin/rooms/live', '/admin/usage', '/admin/usage/rooms', '/admin/usage/users', '/admin/quality/worst', "/admin/calls/' OR 1=1"]) {
      for (const k of keys) {
        for (const v of bad) {
          const res = await get('opal', `${path}?${k}=${encodeURIComponent(v)}`);
          if (res.statusCode >= 500 || (res.statusCode >= 400 && typeof res.json().error?.code !== 'string')) {
            failures.push(`${res.statusCode} ${path}?${k}=${v.slice(0, 20)}: ${res.body.slice(0, 120)}`);
          }
        }
      }
    }
    assert.deepEqual(failures.slice(0, 10), []);
  });
});
