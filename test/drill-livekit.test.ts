// Failure drill: LiveKit killed and started again, on a private LiveKit (own ports and
// key, no webhook: nothing LiveKit sees reaches this app except through
// reconciliation). While it is down, creating a room is a clean 503 with nothing
// written, /readiness shows livekit down, and a reconciliation pass changes nothing
// (an unreachable LiveKit is not "every room is gone"). Once it is back (with none of
// its old state), reconcileOnce brings the history in line with what LiveKit reports.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dispose, Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { reconcileOnce } from '../src/jobs/reconcile.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { postgresAvailable } from './helpers/db.ts';
import { assertPortsFree, livekitBinary, privateLiveKit, type PrivateLiveKit } from './helpers/drills.ts';
import { eventually, freePort } from './helpers/instances.ts';
import { serviceSkip } from './helpers/services.ts';

const bin = livekitBinary();
const skip =
  (await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL')) ||
  (await serviceSkip('a LiveKit binary for a private instance', bin !== null, '~/.cache/auralink/bin/livekit-server-*/server'));
// UDP media ports of the private LiveKit (the shared one uses 50000-50200).
const UDP = { start: 51000, end: 51100 };

interface Participant {
  identity: string;
  status: string;
  participant_sid: string | null;
  left_at: Date | null;
}

describe('drill: LiveKit killed and started again', { skip, timeout: 90_000 }, () => {
  let dir: string;
  let lk: PrivateLiveKit;
  let t: TestApp;
  let rooms: RoomServiceClient;
  const clients: Room[] = [];
  const api = async (user: string, method: string, url: string, payload?: object) => {
    const res = await t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: await t.auth(user), payload });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };
  const count = async (sqlText: string, params: unknown[] = []) =>
    t.ctx.db.privileged(async (sql) => (await sql.query<{ n: number }>(sqlText, params)).rows[0]!.n);
  const readiness = async () => (await t.app.inject({ method: 'GET', url: '/readiness' })).json().checks as Record<string, { status: string }>;
  const join = async (user: string, callId: string) => {
    const tok = await api(user, 'POST', `/rooms/${callId}/token`, {});
    assert.equal(tok.status, 200, JSON.stringify(tok.body));
    const room = new Room();
    clients.push(room);
    await room.connect(tok.body.ws_url, tok.body.token, { autoSubscribe: false, dynacast: false });
    return room;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-drill-lk-'));
    const ports = { http: await freePort(), rtcTcp: await freePort(), udpStart: UDP.start, udpEnd: UDP.end };
    await assertPortsFree([ports.http, ports.rtcTcp]);
    lk = privateLiveKit(bin!, dir, ports);
    await lk.start();
    t = await startTestApp({
      engine: 'postgres',
      env: { LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret },
    });
    rooms = new RoomServiceClient(lk.url.replace(/^ws/, 'http'), lk.apiKey, lk.apiSecret);
    for (const u of ['alice', 'bob']) await api(u, 'GET', '/users/me');
  });

  after(async () => {
    for (const r of clients) {
      await Promise.race([r.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    }
    await dispose().catch(() => undefined);
    await t?.close().catch(() => undefined);
    await lk?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses cleanly while LiveKit is down, then reconciliation catches the history up', async () => {
    // LiveKit up: two rooms; alice is in the first one, and one reconciliation pass has
    // recorded her session (as webhooks normally would).
    const main = await api('alice', 'POST', '/rooms', { name: 'Drill main', invitees: ['@bob.aura'] });
    assert.equal(main.status, 201, JSON.stringify(main.body));
    const quiet = await api('alice', 'POST', '/rooms', { name: 'Drill quiet' });
    assert.equal(quiet.status, 201, JSON.stringify(quiet.body));
    const callId: string = main.body.call_id;
    const aliceBefore = await join('alice', callId);
    await eventually(async () => (await rooms.listParticipants(main.body.room_name)).length === 1, 15_000, 'LiveKit to see alice');
    const first = await reconcileOnce(t.ctx);
    assert.ok(first && first.joined === 1, JSON.stringify(first));
    // Straight from the table: the API does not show LiveKit's session ids.
    const participants = () =>
      t.ctx.db.privileged(async (sql) =>
        (await sql.query<Participant>(
          `SELECT identity, status, participant_sid, left_at FROM call_participants WHERE call_id = $1`,
          [callId],
        )).rows,
      );
    const who = (list: Participant[], name: string) => list.filter((p) => p.identity === t.userId(name));
    const aliceSid = who(await participants(), 'alice').find((p) => p.status === 'connected')?.participant_sid;
    assert.ok(aliceSid, 'alice recorded as connected');

    // Bob joins too; no webhook reaches the app, so its records do not know.
    const bobBefore = await join('bob', callId);
    await eventually(async () => (await rooms.listParticipants(main.body.room_name)).length === 2, 15_000, 'LiveKit to see bob');
    assert.ok(who(await participants(), 'bob').every((p) => p.status !== 'connected'), 'no webhook got through');

    // LiveKit dies (with every room and session it held).
    await lk.kill('SIGKILL');
    // The clients would try to resume on their own; these sessions are over.
    for (const r of [aliceBefore, bobBefore]) {
      await Promise.race([r.disconnect().catch(() => undefined), new Promise((res) => setTimeout(res, 2000))]);
    }

    const callsBefore = await count('SELECT count(*)::int AS n FROM calls');
    const eventsBefore = await count('SELECT count(*)::int AS n FROM call_events');
    const refused = await api('alice', 'POST', '/rooms', { name: 'While down' });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(await count('SELECT count(*)::int AS n FROM calls'), callsBefore, 'no row for a room LiveKit never made');
    assert.equal(await count('SELECT count(*)::int AS n FROM call_events'), eventsBefore, 'no event either');
    const down = await readiness();
    assert.equal(down.livekit?.status, 'down');
    assert.equal(down.database?.status, 'ok');

    // Reconciliation while LiveKit is unreachable must not take that as "all rooms are gone".
    await assert.rejects(reconcileOnce(t.ctx));
    const mainDuring = (await api('alice', 'GET', `/calls/${callId}`)).body;
    assert.notEqual(mainDuring.status, 'ended');
    assert.equal(who(await participants(), 'alice').find((p) => p.participant_sid === aliceSid)?.status, 'connected');
    assert.notEqual((await api('alice', 'GET', `/calls/${quiet.body.call_id}`)).body.status, 'ended');

    // LiveKit back, empty. Bob comes back (a new session, which recreates the room);
    // alice does not, and nobody returns to the quiet room.
    await lk.start();
    await eventually(async () => (await readiness()).livekit?.status === 'ok', 15_000, 'livekit ready again');
    await join('bob', callId);
    const live = (await eventually(async () => {
      const ps = await rooms.listParticipants(main.body.room_name);
      return ps.length === 1 ? ps : undefined;
    }, 15_000, 'LiveKit to see bob again'))!;
    const bobSid = live[0]!.sid;

    const report = await reconcileOnce(t.ctx);
    assert.ok(report, 'reconciliation ran');
    assert.deepEqual({ joined: report.joined, left: report.left, ended: report.ended }, { joined: 1, left: 1, ended: 1 }, JSON.stringify(report));

    const list = await participants();
    const alice = who(list, 'alice').find((p) => p.participant_sid === aliceSid);
    assert.equal(alice?.status, 'left', 'alice’s session died with LiveKit');
    assert.ok(alice?.left_at);
    assert.ok(!who(list, 'alice').some((p) => p.status === 'connected'));
    assert.equal(who(list, 'bob').find((p) => p.participant_sid === bobSid)?.status, 'connected', 'bob is in the call again');
    const mainAfter = (await api('alice', 'GET', `/calls/${callId}`)).body;
    assert.equal(mainAfter.status, 'active');
    assert.equal(mainAfter.participant_count, 1);
    const quietAfter = (await api('alice', 'GET', `/calls/${quiet.body.call_id}`)).body;
    assert.equal(quietAfter.status, 'ended', 'a room LiveKit no longer has is ended');

    // A second pass changes nothing; creating rooms works again.
    const second = await reconcileOnce(t.ctx);
    assert.equal(second && second.joined + second.left + second.ended + second.tracks, 0, JSON.stringify(second));
    assert.equal((await api('alice', 'POST', '/rooms', { name: 'After' })).status, 201);
  });
});
