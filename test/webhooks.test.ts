// LiveKit webhooks with crafted, correctly signed bodies: idempotency, every order
// of one participant's join/track/leave, signatures, malformed bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { deliver, eventJson, sign, uid, type EventSpec } from './helpers/webhooks.ts';

const MIC = 2;
const CAMERA = 1;
const T0 = 1_800_000_000; // unix seconds

describe('LiveKit webhooks', () => {
  let t: TestApp;
  const api = async (user: string, method: string, url: string, payload?: object) => {
    const res = await t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: await t.auth(user), payload });
    return res.json();
  };
  const newRoom = async () => {
    const room = await api('alice', 'POST', '/rooms', { name: 'Webhooks', invitees: ['@bob.aura'] });
    await api('alice', 'POST', `/rooms/${room.call_id}/token`, {});
    await api('bob', 'POST', `/rooms/${room.call_id}/token`, {});
    return room as { call_id: string; room_name: string };
  };
  const snapshot = async (callId: string) => {
    const call = await api('alice', 'GET', `/calls/${callId}`);
    const { participants } = await api('alice', 'GET', `/calls/${callId}/participants`);
    return {
      call: { status: call.status, started_at: call.started_at, ended_at: call.ended_at, duration: call.duration_seconds, count: call.participant_count },
      participants: participants
        .map((p: Record<string, unknown>) => ({ ...p, participant_id: undefined }))
        .sort((a: { identity: string }, b: { identity: string }) => a.identity.localeCompare(b.identity)),
    };
  };
  const webhookCount = async () =>
    (await t.ctx.db.privileged((sql) => sql.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events'))).rows[0]!.n;

  before(async () => {
    t = await startTestApp();
    for (const u of ['alice', 'bob', 'carol']) await api(u, 'GET', '/users/me');
  });
  after(() => t?.close());

  /** alice's session: join, publish the microphone, unpublish it, leave. */
  const aliceEvents = (room: { room_name: string }) => {
    const participant = { sid: uid('PA'), identity: t.userId('alice'), name: 'Alice', joinedAtMs: T0 * 1000 + 250 };
    const track = { sid: uid('TR'), source: MIC };
    return {
      J: { event: 'participant_joined', createdAt: T0, room: { name: room.room_name }, participant },
      P: { event: 'track_published', createdAt: T0 + 1, room: { name: room.room_name }, participant, track: { ...track, unixMicro: (T0 + 1) * 1e6 + 10 } },
      U: { event: 'track_unpublished', createdAt: T0 + 1, room: { name: room.room_name }, participant, track: { ...track, unixMicro: (T0 + 1) * 1e6 + 900 } },
      L: { event: 'participant_left', createdAt: T0 + 61, room: { name: room.room_name }, participant: { ...participant, disconnectReason: 1 } },
    } satisfies Record<string, EventSpec>;
  };

  it('applies a call in order: joins, media, a leave, the room finishing', async () => {
    const room = await newRoom();
    const ev = aliceEvents(room);
    const bob = { sid: uid('PA'), identity: t.userId('bob'), name: 'Bob', joinedAtMs: T0 * 1000 + 900 };
    const cam = { sid: uid('TR'), source: CAMERA };
    const r = { name: room.room_name, sid: uid('RM') };
    const send = async (e: EventSpec) => assert.equal((await deliver(t, eventJson(e))).status, 200);

    await send({ event: 'room_started', createdAt: T0 - 5, room: r });
    await send(ev.J);
    await send({ event: 'participant_joined', createdAt: T0, room: r, participant: bob });
    await send(ev.P);
    await send({ event: 'track_published', createdAt: T0 + 2, room: r, participant: bob, track: cam });
    let s = await snapshot(room.call_id);
    assert.equal(s.call.status, 'active');
    assert.equal(s.call.count, 2);
    assert.equal(s.call.started_at, new Date(T0 * 1000 + 250).toISOString());
    const byId = (list: Array<Record<string, unknown>>, name: string) => list.find((p) => p.identity === t.userId(name))!;
    const a = byId(s.participants, 'alice');
    const b = byId(s.participants, 'bob');
    assert.equal(a.status, 'connected');
    assert.equal(a.audio_enabled, true);
    assert.equal(a.video_enabled, false);
    assert.equal(a.role, 'host');
    assert.equal(b.video_enabled, true);
    assert.equal(b.role, 'participant');
    assert.equal((await api('alice', 'GET', `/rooms/${room.call_id}`)).room_id, r.sid);

    await send(ev.U);
    await send(ev.L);
    s = await snapshot(room.call_id);
    assert.equal(s.call.count, 1);
    assert.equal(byId(s.participants, 'alice').status, 'left');
    assert.equal(byId(s.participants, 'alice').audio_enabled, false);
    assert.equal(byId(s.participants, 'alice').duration_seconds, 60);

    await send({ event: 'room_finished', createdAt: T0 + 120, room: r });
    s = await snapshot(room.call_id);
    assert.equal(s.call.status, 'ended');
    assert.equal(s.call.count, 0);
    assert.equal(s.call.ended_at, new Date((T0 + 120) * 1000).toISOString());
    assert.equal(s.call.duration, 119);
    assert.equal(byId(s.participants, 'bob').status, 'left');
    assert.equal(byId(s.participants, 'bob').video_enabled, false);
    assert.equal(byId(s.participants, 'bob').duration_seconds, 119);
  });

  it('times an unpublish by its own event, not by the track stamp it shares with the publish', async () => {
    // LiveKit sends the track as published (its version stamped at publish time) on
    // both events; only the event's createdAt says when the camera went off.
    const timelineOf = async (callId: string) => {
      const { participants } = await api('alice', 'GET', `/calls/${callId}/timeline`);
      const mine = participants.find((p: { identity: string }) => p.identity === t.userId('alice'));
      return mine.events.filter((e: { type: string }) => e.type !== 'joined').map((e: { type: string; source: string; at: string }) =>
        `${e.type} ${e.source} ${e.at}`);
    };
    const run = async (order: Array<'P' | 'U' | 'p' | 'u'>) => {
      const room = await newRoom();
      const { J } = aliceEvents(room);
      const r = { name: room.room_name };
      const cam = { sid: uid('TR'), source: CAMERA, unixMicro: (T0 + 1) * 1e6 + 500_000 };
      const mic = { sid: uid('TR'), source: MIC, unixMicro: (T0 + 50) * 1e6 + 700_000 };
      const ev = {
        P: { event: 'track_published', createdAt: T0 + 1, room: r, participant: J.participant, track: cam },
        U: { event: 'track_unpublished', createdAt: T0 + 45, room: r, participant: J.participant, track: cam },
        // Off within the same second as on: the event's whole second is before the stamp.
        p: { event: 'track_published', createdAt: T0 + 50, room: r, participant: J.participant, track: mic },
        u: { event: 'track_unpublished', createdAt: T0 + 50, room: r, participant: J.participant, track: mic },
      } satisfies Record<string, EventSpec>;
      assert.equal((await deliver(t, eventJson(J))).status, 200);
      for (const k of order) assert.equal((await deliver(t, eventJson(ev[k]))).status, 200);
      return timelineOf(room.call_id);
    };
    const iso = (ms: number) => new Date(ms).toISOString();
    const expected = [
      `published camera ${iso((T0 + 1) * 1000 + 500)}`,
      `unpublished camera ${iso((T0 + 45) * 1000)}`,
      `published microphone ${iso((T0 + 50) * 1000 + 700)}`,
      `unpublished microphone ${iso((T0 + 50) * 1000 + 700)}`,
    ];
    assert.deepEqual(await run(['P', 'U', 'p', 'u']), expected);
    // Delivered backwards, the same times: each comes from its own event.
    assert.deepEqual(await run(['u', 'p', 'U', 'P']), expected);
  });

  it('treats redeliveries as no-ops', async () => {
    const room = await newRoom();
    const ev = aliceEvents(room);
    for (const e of [ev.J, ev.P]) {
      const body = eventJson({ ...e, id: `dup-${uid('x')}` });
      assert.equal((await deliver(t, body)).body.status, 'applied');
      assert.equal((await deliver(t, body)).body.status, 'duplicate');
    }
    const s = await snapshot(room.call_id);
    assert.equal(s.call.count, 1);
    assert.equal(s.participants.filter((p: { status: string }) => p.status === 'connected').length, 1);
  });

  it('ends in the same state whatever order join, publish, unpublish and leave arrive in', async () => {
    const perms = (xs: string[]): string[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    const run = async (order: string[], withLeave: boolean) => {
      const room = await newRoom();
      const ev = aliceEvents(room) as Record<string, EventSpec>;
      for (const k of order) {
        const e = ev[k]!;
        assert.equal((await deliver(t, eventJson(e))).status, 200);
        if (k === 'P') assert.equal((await deliver(t, eventJson(e))).status, 200, 'a second id for the same change');
      }
      const s = await snapshot(room.call_id);
      return JSON.stringify({ ...s, participants: s.participants, withLeave });
    };
    for (const events of [['J', 'P', 'U', 'L'], ['J', 'P', 'L'], ['J', 'P']]) {
      const expected = await run(events, events.includes('L'));
      for (const order of perms(events)) {
        assert.equal(await run(order, events.includes('L')), expected, `order ${order.join('')}`);
      }
    }
  });

  it('replaces a session on reconnect (DUPLICATE_IDENTITY) and marks aborted connections', async () => {
    const room = await newRoom();
    const r = { name: room.room_name };
    const first = { sid: uid('PA'), identity: t.userId('bob'), name: 'Bob', joinedAtMs: T0 * 1000 };
    const second = { ...first, sid: uid('PA'), joinedAtMs: (T0 + 30) * 1000 };
    await deliver(t, eventJson({ event: 'participant_joined', createdAt: T0, room: r, participant: first }));
    await deliver(t, eventJson({ event: 'participant_joined', createdAt: T0 + 30, room: r, participant: second }));
    await deliver(t, eventJson({ event: 'participant_left', createdAt: T0 + 30, room: r, participant: { ...first, disconnectReason: 2 } }));
    let s = await snapshot(room.call_id);
    assert.equal(s.call.count, 1);
    const bobs = s.participants.filter((p: { identity: string }) => p.identity === t.userId('bob'));
    assert.deepEqual(bobs.map((p: { status: string }) => p.status).sort(), ['connected', 'disconnected']);
    assert.ok(bobs.every((p: { role: string; user_id: string }) => p.role === 'participant' && p.user_id === t.userId('bob')));

    await deliver(t, eventJson({ event: 'participant_connection_aborted', createdAt: T0 + 40, room: r, participant: second }));
    s = await snapshot(room.call_id);
    assert.equal(s.call.count, 0);
    assert.ok(s.participants.filter((p: { identity: string }) => p.identity === t.userId('bob')).every((p: { status: string }) => p.status === 'disconnected'));
  });

  it('acknowledges events for unknown rooms', async () => {
    const res = await deliver(t, eventJson({ event: 'room_started', createdAt: T0, room: { name: 'not-ours' } }));
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'unknown_room');
  });

  it('refuses forged, missing and expired signatures and malformed bodies, changing nothing', async () => {
    const room = await newRoom();
    const ev = aliceEvents(room);
    const body = eventJson(ev.J);
    const before = await snapshot(room.call_id);
    const count = await webhookCount();
    const { apiKey, apiSecret } = t.config.livekit;
    const cases: Array<[string, Promise<{ status: number; body: { error?: { code: string } } }>, number]> = [
      ['no signature', deliver(t, body, { authorization: null }), 401],
      ['wrong secret', deliver(t, body, { authorization: await sign(body, apiKey, 'x'.repeat(40)) }), 401],
      ['wrong key', deliver(t, body, { authorization: await sign(body, 'other-key', apiSecret) }), 401],
      ['signature of another body', deliver(t, body, { authorization: await sign(`${body} `, apiKey, apiSecret) }), 401],
      ['garbage header', deliver(t, body, { authorization: 'not-a-jwt' }), 401],
      ['expired', deliver(t, body, { authorization: await sign(body, apiKey, apiSecret, -120) }), 401],
      ['not JSON', deliver(t, '{"event": ', {}), 400],
      ['wrong shape', deliver(t, '{"event": 5, "room": "x"}', {}), 400],
      ['no id', deliver(t, eventJson({ ...ev.J, id: '' }), {}), 400],
    ];
    for (const [name, res, status] of cases) {
      const r = await res;
      assert.equal(r.status, status, name);
      assert.ok(r.body.error?.code, name);
    }
    assert.deepEqual(await snapshot(room.call_id), before);
    assert.equal(await webhookCount(), count);
    // The same event, properly signed, is still applied afterwards.
    assert.equal((await deliver(t, body)).body.status, 'applied');
    assert.equal((await deliver(t, body, { contentType: 'application/json' })).body.status, 'duplicate');
  });
});
