// Reconciliation on the real LiveKit with real participants, while no webhook
// reaches this app (it does not listen on the webhook port): reconcileOnce alone
// must bring the records in line with what LiveKit reports.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AudioFrame, AudioSource, dispose, LocalAudioTrack, Room, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { reconcileOnce } from '../src/jobs/reconcile.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually, livekitAppEnv, livekitSkip, roomService } from './helpers/livekit.ts';

describe('reconciliation with LiveKit', { skip: await livekitSkip() }, () => {
  let t: TestApp;
  const rooms: Room[] = [];
  const api = async (user: string, method: string, url: string, payload?: object) => {
    const res = await t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: await t.auth(user), payload });
    return res.body ? res.json() : null;
  };

  before(async () => {
    t = await startTestApp({ env: livekitAppEnv() });
    for (const u of ['alice', 'bob']) await api(u, 'GET', '/users/me');
  });
  after(async () => {
    for (const r of rooms) await r.disconnect().catch(() => undefined);
    await dispose().catch(() => undefined);
    await t?.close();
  });

  it('repairs joins, media, leaves and a vanished room that no webhook reported', async () => {
    const room = await api('alice', 'POST', '/rooms', { name: 'Reconcile', invitees: ['@bob.aura'] });
    const tokens = {
      alice: await api('alice', 'POST', `/rooms/${room.call_id}/token`, {}),
      bob: await api('bob', 'POST', `/rooms/${room.call_id}/token`, {}),
    };
    const alice = new Room();
    const bob = new Room();
    rooms.push(alice, bob);
    await alice.connect(tokens.alice.ws_url, tokens.alice.token, { autoSubscribe: false, dynacast: false });
    await bob.connect(tokens.bob.ws_url, tokens.bob.token, { autoSubscribe: false, dynacast: false });
    const source = new AudioSource(48_000, 1);
    await alice.localParticipant!.publishTrack(
      LocalAudioTrack.createAudioTrack('microphone', source),
      new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    );
    await source.captureFrame(new AudioFrame(new Int16Array(480), 48_000, 1, 480));
    const lk = roomService();
    await eventually(async () => {
      const ps = await lk.listParticipants(room.room_name);
      return ps.length === 2 && ps.some((p) => p.tracks.length > 0);
    }, 15_000, 'LiveKit to see both, with a track');

    const participants = async () => (await api('alice', 'GET', `/calls/${room.call_id}/participants`)).participants;
    assert.ok((await participants()).every((p: { status: string }) => p.status === 'waiting'), 'no webhook got through');

    const first = await reconcileOnce(t.ctx);
    assert.ok(first && first.joined === 2 && first.tracks === 1, JSON.stringify(first));
    let list = await participants();
    const who = (name: string) => list.find((p: { identity: string }) => p.identity === t.userId(name));
    assert.equal(who('alice').status, 'connected');
    assert.equal(who('alice').audio_enabled, true);
    assert.equal(who('bob').status, 'connected');
    let call = await api('alice', 'GET', `/calls/${room.call_id}`);
    assert.equal(call.status, 'active');
    assert.equal(call.participant_count, 2);

    assert.deepEqual(await reconcileOnce(t.ctx).then((r) => r && r.joined + r.left + r.tracks + r.ended), 0, 'a second pass changes nothing');

    await bob.disconnect();
    await eventually(async () => (await lk.listParticipants(room.room_name)).length === 1, 15_000, 'LiveKit to drop bob');
    const second = await reconcileOnce(t.ctx);
    assert.equal(second?.left, 1);
    list = await participants();
    assert.equal(who('bob').status, 'left');
    assert.ok(who('bob').duration_seconds !== null);

    // The room vanishes behind our back (closed in LiveKit directly).
    await lk.deleteRoom(room.room_name);
    const third = await reconcileOnce(t.ctx);
    assert.equal(third?.ended, 1);
    call = await api('alice', 'GET', `/calls/${room.call_id}`);
    assert.equal(call.status, 'ended');
    assert.equal(call.participant_count, 0);
    list = await participants();
    assert.ok(list.every((p: { status: string }) => p.status === 'left'));
  });

  it('runs on one instance at a time', async () => {
    if (t.database.engine !== 'postgres') return; // PGlite: one process owns the files
    const holder = await t.ctx.db.pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(727002)'); // as another instance would
      assert.equal(await reconcileOnce(t.ctx), null);
      await holder.query('SELECT pg_advisory_unlock(727002)');
      assert.notEqual(await reconcileOnce(t.ctx), null);
    } finally {
      holder.release();
    }
  });
});
