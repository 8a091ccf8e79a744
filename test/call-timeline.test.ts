// A call's timeline and per-participant quality for the people in it: sessions with
// their media events (a reconnect is a second session with LiveKit's reason), quality
// bucketed per session, and 404 for anyone the call history would not show it to.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('call timeline and quality per participant', () => {
  let t: TestApp;
  const id = (n: string) => t.userId(n);
  let callId = '';
  let emptyCallId = '';
  const seat: Record<string, string> = {};
  const at = (s: number) => new Date(Date.UTC(2024, 4, 1, 9, 0, s));

  const get = async (name: string, url: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: await t.auth(name) });

  before(async () => {
    t = await startTestApp();
    for (const n of ['alice', 'bob', 'carol', 'dave']) await get(n, '/users/me');
    await t.ctx.db.privileged(async (sql) => {
      const c = await sql.query(
        `INSERT INTO calls (room_name, name, created_by, status) VALUES ('tl-room', 'Timeline', $1, 'active'),
           ('tl-empty', 'Empty', $1, 'waiting') RETURNING call_id`,
        [id('alice')],
      );
      callId = c.rows[0].call_id;
      emptyCallId = c.rows[1].call_id;
      const session = async (key: string, user: string, joined: number, left: number | null, status: string, reason: string | null) => {
        const r = await sql.query(
          `INSERT INTO call_participants (call_id, user_id, identity, participant_sid, display_name, status, joined_at, left_at, disconnect_reason)
           VALUES ($1, $2::uuid, $2::text, $3, $4, $5, $6, $7, $8) RETURNING participant_id`,
          [callId, id(user), `PA_${key}`, user[0]!.toUpperCase() + user.slice(1), status, at(joined), left === null ? null : at(left), reason],
        );
        seat[key] = r.rows[0].participant_id;
      };
      await session('alice', 'alice', 0, 120, 'left', 'CLIENT_INITIATED');
      await session('bob1', 'bob', 10, 40, 'disconnected', 'DUPLICATE_IDENTITY');
      await session('bob2', 'bob', 41, null, 'connected', null);
      const media = (key: string, track: string, source: string, action: string, s: number) =>
        sql.query(
          `INSERT INTO participant_media_events (call_id, participant_id, track_sid, source, action, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [callId, seat[key], track, source, action, at(s)],
        );
      await media('alice', 'TR_a_cam', 'camera', 'published', 1);
      await media('alice', 'TR_a_mic', 'microphone', 'published', 2);
      await media('alice', 'TR_a_scr', 'screen_share', 'published', 50);
      await media('alice', 'TR_a_scr', 'screen_share', 'unpublished', 70);
      await media('bob2', 'TR_b_cam', 'camera', 'published', 42);
      await sql.query('INSERT INTO call_invitees (call_id, user_id, invited_by) VALUES ($1, $2, $3)', [callId, id('dave'), id('alice')]);
      // two buckets of 10 s for alice, one for bob's second session
      const sample = (key: string, s: number, rtt: number, loss: number, audio: number | null, video: number | null, mos: number) =>
        sql.query(
          `INSERT INTO quality_metrics (call_id, participant_id, recorded_at, latency_ms, jitter_ms, packet_loss_percent,
             audio_bitrate_kbps, video_bitrate_kbps, quality_score) VALUES ($1, $2, $3, $4, 3, $5, $6, $7, $8)`,
          [callId, seat[key], at(s), rtt, loss, audio, video, mos],
        );
      await sample('alice', 1, 20, 0, 30, 500, 4.4);
      await sample('alice', 5, 40, 2, 30, 700, 4.2);
      await sample('alice', 11, 100, 1, null, null, 4.0);
      await sample('bob2', 45, 60, 0, 40, 800, 4.3);
    });
  });
  after(() => t.close());

  it('gives each session its events in time order, a reconnect as a second session with the reason', async () => {
    const res = await get('alice', `/calls/${callId}/timeline`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.participants.length, 3);
    const alice = body.participants.find((p: { participant_id: string }) => p.participant_id === seat.alice);
    assert.deepEqual(
      alice.events.map((e: { type: string; source?: string }) => `${e.type}${e.source ? `:${e.source}` : ''}`),
      ['joined', 'published:camera', 'published:microphone', 'published:screen_share', 'unpublished:screen_share', 'left'],
    );
    assert.equal(alice.events.at(-1).reason, 'CLIENT_INITIATED');
    assert.equal(alice.events[0].at, at(0).toISOString());
    const bob = body.participants.filter((p: { user_id: string }) => p.user_id === id('bob'));
    assert.equal(bob.length, 2);
    assert.deepEqual(bob[0].events.map((e: { type: string }) => e.type), ['joined', 'disconnected']);
    assert.equal(bob[0].events[1].reason, 'DUPLICATE_IDENTITY');
    assert.deepEqual(bob[1].events.map((e: { type: string }) => e.type), ['joined', 'published']);
    assert.equal(bob[1].status, 'connected');
  });

  it('averages quality per session and bucket', async () => {
    const res = await get('bob', `/calls/${callId}/quality/participants`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.bucket_seconds, 10); // 44 s of samples: the smallest width
    const alice = body.participants.find((p: { participant_id: string }) => p.participant_id === seat.alice);
    assert.deepEqual(alice.points, [
      { at: at(0).toISOString(), samples: 2, rtt_ms: 30, jitter_ms: 3, packet_loss_percent: 1, bitrate_kbps: 630, mos: 4.3 },
      { at: at(10).toISOString(), samples: 1, rtt_ms: 100, jitter_ms: 3, packet_loss_percent: 1, bitrate_kbps: null, mos: 4 },
    ]);
    const bob = body.participants.find((p: { participant_id: string }) => p.participant_id === seat.bob2);
    assert.equal(bob.points.length, 1);
    assert.equal(bob.points[0].bitrate_kbps, 840);
    // bob's first session sent nothing: no series for it
    assert.equal(body.participants.length, 2);
  });

  it('is empty for a call without sessions or samples', async () => {
    const tl = await get('alice', `/calls/${emptyCallId}/timeline`);
    assert.equal(tl.statusCode, 200);
    assert.deepEqual(tl.json().participants, []);
    const q = await get('alice', `/calls/${emptyCallId}/quality/participants`);
    assert.equal(q.statusCode, 200);
    assert.deepEqual(q.json().participants, []);
  });

  it('is 404 to a stranger and to an invitee who never joined, 404 for an unknown call, 400 for a bad id', async () => {
    for (const url of [`/calls/${callId}/timeline`, `/calls/${callId}/quality/participants`]) {
      for (const who of ['carol', 'dave']) {
        const res = await get(who, url);
        assert.equal(res.statusCode, 404, `${who} ${url}`);
        assert.equal(res.json().error.code, 'NOT_FOUND');
      }
    }
    assert.equal((await get('alice', '/calls/00000000-0000-4000-8000-000000000000/timeline')).statusCode, 404);
    assert.equal((await get('alice', '/calls/not-a-uuid/quality/participants')).statusCode, 400);
    const anon = await t.app.inject({ method: 'GET', url: `/api/v1/calls/${callId}/timeline` });
    assert.equal(anon.statusCode, 401);
  });

  it('counts the people who joined in the history, a reconnect once', async () => {
    const res = await get('alice', '/calls');
    const call = res.json().calls.find((c: { call_id: string }) => c.call_id === callId);
    assert.equal(call.people_joined, 2);
    const empty = res.json().calls.find((c: { call_id: string }) => c.call_id === emptyCallId);
    assert.equal(empty.people_joined, 0);
  });

  it('counts the people of a call only for someone who may see it (the count runs as the owner)', async () => {
    const count = (who: string) =>
      t.ctx.db.asUser(t.userId(who), (sql) => sql.query<{ n: number }>('SELECT app.call_people_joined($1) AS n', [callId]));
    assert.equal((await count('alice')).rows[0]!.n, 2);
    // carol is a stranger to the call: what the participants' policy lets her count.
    assert.equal((await count('carol')).rows[0]!.n, 0);
    const underRls = await t.ctx.db.asUser(t.userId('carol'), (sql) =>
      sql.query<{ n: number }>('SELECT count(*)::int AS n FROM call_participants WHERE call_id = $1', [callId]),
    );
    assert.equal(underRls.rows[0]!.n, 0);
  });
});
