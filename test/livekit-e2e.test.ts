// End to end on the real LiveKit server with real participants (@livekit/rtc-node):
// LiveKit's own webhooks arrive at this app on 127.0.0.1:18089 (the URL that
// scripts/test-services.sh configures), so this is the only test file using that port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AudioFrame, AudioSource, dispose, LocalAudioTrack, Room, RoomEvent, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually, livekitAppEnv, livekitEnv, livekitSkip } from './helpers/livekit.ts';
import { openSse, type SseStream } from './helpers/sse.ts';

interface Participant {
  identity: string;
  status: string;
  audio_enabled: boolean;
  duration_seconds: number | null;
  joined_at: string | null;
  left_at: string | null;
}

describe('LiveKit end to end', { skip: await livekitSkip() }, () => {
  let t: TestApp;
  let events: SseStream | null = null;
  const rooms: Room[] = [];
  const api = async (user: string, method: string, url: string, payload?: object) => {
    const res = await t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: await t.auth(user), payload });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };

  before(async () => {
    const u = new URL(livekitEnv.webhookUrl);
    t = await startTestApp({ env: livekitAppEnv(), port: Number(u.port) });
    await t.app.listen({ host: u.hostname, port: Number(u.port) });
  });
  after(async () => {
    events?.close();
    for (const r of rooms) await r.disconnect().catch(() => undefined);
    await dispose().catch(() => undefined);
    await t?.close();
  });

  it('tracks a real call from first join to the room being closed', async () => {
    for (const u of ['alice', 'bob']) await api(u, 'GET', '/users/me');
    const base = `http://127.0.0.1:${new URL(livekitEnv.webhookUrl).port}`;
    events = await openSse(`${base}/api/v1/events`, await t.auth('alice'));

    const room = (await api('alice', 'POST', '/rooms', { name: 'E2E', invitees: ['@bob.aura'] })).body;
    assert.match(room.room_id, /^RM_/);
    const aliceToken = (await api('alice', 'POST', `/rooms/${room.call_id}/token`, {})).body;
    const bobToken = (await api('bob', 'POST', `/rooms/${room.call_id}/token`, {})).body;
    assert.equal(aliceToken.ws_url, livekitEnv.url);

    const alice = new Room();
    const bob = new Room();
    rooms.push(alice, bob);
    await alice.connect(aliceToken.ws_url, aliceToken.token, { autoSubscribe: false, dynacast: false });
    await bob.connect(bobToken.ws_url, bobToken.token, { autoSubscribe: false, dynacast: false });

    // Alice publishes her microphone: 48 kHz mono silence.
    const source = new AudioSource(48_000, 1);
    const track = LocalAudioTrack.createAudioTrack('microphone', source);
    await alice.localParticipant!.publishTrack(track, new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));
    for (let i = 0; i < 10; i++) await source.captureFrame(new AudioFrame(new Int16Array(480), 48_000, 1, 480));

    const participants = async () =>
      (await api('alice', 'GET', `/calls/${room.call_id}/participants`)).body.participants as Participant[];
    const who = (list: Participant[], name: string) => list.find((p) => p.identity === t.userId(name));
    await eventually(async () => {
      const list = await participants();
      return who(list, 'alice')?.status === 'connected' && who(list, 'bob')?.status === 'connected' && who(list, 'alice')?.audio_enabled;
    }, 20_000, 'both connected, alice with audio');
    const call = (await api('alice', 'GET', `/calls/${room.call_id}`)).body;
    assert.equal(call.status, 'active');
    assert.equal(call.participant_count, 2);
    assert.equal(who(await participants(), 'bob')!.audio_enabled, false);

    const data = (e: { data: string }) => JSON.parse(e.data);
    await events.next((e) => e.event === 'participant.joined' && data(e).payload.identity === t.userId('bob'), 10_000);
    await events.next((e) => e.event === 'participant.media_changed' && data(e).payload.audio_enabled === true, 10_000);

    // Bob leaves: he is 'left' with a duration, and alice stays.
    await bob.disconnect();
    const bobLeft = await eventually(async () => {
      const b = who(await participants(), 'bob');
      return b?.status === 'left' ? b : undefined;
    }, 20_000, 'bob left');
    assert.ok(bobLeft.left_at && bobLeft.duration_seconds !== null && bobLeft.duration_seconds >= 0);
    await events.next((e) => e.event === 'participant.left' && data(e).payload.identity === t.userId('bob'), 10_000);
    assert.equal((await api('alice', 'GET', `/calls/${room.call_id}`)).body.participant_count, 1);

    // Closing the room through the API: LiveKit disconnects alice, the call ends.
    const disconnected = new Promise<void>((resolve) => alice.once(RoomEvent.Disconnected, () => resolve()));
    assert.equal((await api('alice', 'DELETE', `/rooms/${room.call_id}`)).status, 204);
    await Promise.race([
      disconnected,
      new Promise((_, reject) => setTimeout(() => reject(new Error('alice was not disconnected')), 10_000)),
    ]);
    const ended = (await api('alice', 'GET', `/calls/${room.call_id}`)).body;
    assert.equal(ended.status, 'ended');
    assert.ok(ended.ended_at && ended.duration_seconds !== null);
    assert.equal(ended.participant_count, 0);
    await events.next((e) => e.event === 'call.ended' && data(e).call_id === room.call_id, 10_000);
    const final = await eventually(async () => {
      const list = await participants();
      return list.every((p) => p.status === 'left' && p.duration_seconds !== null) ? list : undefined;
    }, 15_000, 'every session ended with a duration');
    assert.equal(final.length, 2);
  });
});
