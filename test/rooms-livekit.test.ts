// Rooms against a real LiveKit: the room and the row are created together or not
// at all, in both directions, and an unreachable LiveKit is a 503 with nothing written.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { livekitAppEnv, livekitEnv, livekitSkip, roomService } from './helpers/livekit.ts';

const countCalls = async (t: TestApp) =>
  (await t.ctx.db.privileged((sql) => sql.query<{ n: number }>('SELECT count(*)::int AS n FROM calls'))).rows[0]!.n;

describe('rooms with LiveKit unreachable', () => {
  let t: TestApp;
  before(async () => {
    // A closed port on loopback: connection refused at once.
    t = await startTestApp({ env: { LIVEKIT_URL: 'http://127.0.0.1:9', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's'.repeat(32) } });
  });
  after(() => t?.close());

  it('answers 503 UPSTREAM_UNAVAILABLE and writes nothing', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: await t.auth('alice'), payload: { name: 'x' } });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(await countCalls(t), 0);
    // A configured LiveKit is required: the instance is not ready without it.
    const ready = await t.app.inject({ method: 'GET', url: '/readiness' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.livekit.status, 'down');
    assert.equal(ready.json().checks.livekit.required, true);
    assert.equal(ready.json().status, 'down');
  });
});

describe('rooms on a real LiveKit', { skip: await livekitSkip() }, () => {
  let t: TestApp;
  const lk = () => roomService();
  const post = async (user: string, url: string, payload: object) =>
    t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: await t.auth(user), payload });

  before(async () => {
    t = await startTestApp({ env: livekitAppEnv() });
  });
  after(() => t?.close());

  it('creates the LiveKit room with the row, and deletes it with the room', async () => {
    const res = await post('alice', '/rooms', { name: 'Real', max_participants: 7, metadata: { a: 1 } });
    assert.equal(res.statusCode, 201);
    const room = res.json();
    assert.match(room.room_id, /^RM_/);
    const [live] = await lk().listRooms([room.room_name]);
    assert.equal(live?.sid, room.room_id);
    assert.equal(live?.maxParticipants, 7);
    assert.equal(JSON.parse(live!.metadata).call_id, room.call_id);
    const token = (await post('alice', `/rooms/${room.call_id}/token`, {})).json();
    assert.equal(token.ws_url, livekitEnv.url);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${room.call_id}`, headers: await t.auth('alice') });
    assert.equal(del.statusCode, 204);
    assert.deepEqual(await lk().listRooms([room.room_name]), []);
    const ready = (await t.app.inject({ method: 'GET', url: '/readiness' })).json();
    assert.equal(ready.checks.livekit.status, 'ok');
  });

  it('writes no row when LiveKit refuses the room', async () => {
    const refused = await startTestApp({
      database: t.database,
      env: { ...livekitAppEnv(), LIVEKIT_API_SECRET: 'not-the-secret-livekit-knows-0123456789' },
    });
    try {
      const before = await countCalls(t);
      const res = await refused.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: await refused.auth('alice'), payload: { name: 'x' } });
      assert.equal(res.statusCode, 503);
      assert.equal(await countCalls(t), before);
    } finally {
      await refused.close();
    }
  });

  it('deletes the LiveKit room when the row cannot be written', async () => {
    const names: string[] = [];
    const real = t.ctx.livekit.createRoom.bind(t.ctx.livekit);
    // Observe (not replace) the adapter: the real server still creates the room.
    (t.ctx.livekit as { createRoom: typeof real }).createRoom = async (spec) => {
      names.push(spec.name);
      return real(spec);
    };
    await t.ctx.db.privileged((sql) =>
      sql.query(`CREATE FUNCTION test_refuse_call() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN RAISE EXCEPTION 'refused by test'; END $$;
                 CREATE TRIGGER test_refuse_call BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION test_refuse_call();`),
    );
    try {
      const before = await countCalls(t);
      // This process's app: its LiveKit adapter is the one observed here.
      const res = await t.local.inject({ method: 'POST', url: '/api/v1/rooms', headers: await t.auth('alice'), payload: { name: 'Doomed' } });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json().error.code, 'INTERNAL');
      assert.equal(names.length, 1);
      assert.deepEqual(await lk().listRooms(names), [], 'the LiveKit room was removed again');
      assert.equal(await countCalls(t), before);
    } finally {
      await t.ctx.db.privileged((sql) =>
        sql.query('DROP TRIGGER test_refuse_call ON calls; DROP FUNCTION test_refuse_call();'),
      );
      (t.ctx.livekit as { createRoom: typeof real }).createRoom = real;
    }
  });
});
