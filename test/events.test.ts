// The live event stream on both engines: only visible events, in order, resumable
// with Last-Event-ID, and (on PostgreSQL) fanned out across instances by NOTIFY.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanupEvents } from '../src/jobs/events-cleanup.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { enginesUnderTest } from './helpers/db.ts';
import { openSse, type SseStream } from './helpers/sse.ts';
import { deliver, eventJson, uid } from './helpers/webhooks.ts';

for (const engine of await enginesUnderTest()) {
  describe(`live events (${engine})`, () => {
    let t: TestApp;
    let base: string;
    const streams: SseStream[] = [];
    const api = async (user: string, method: string, url: string, payload?: object) => {
      const res = await t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: await t.auth(user), payload });
      return res.body ? res.json() : null;
    };
    const stream = async (user: string, app = base, headers: Record<string, string> = {}) => {
      const s = await openSse(`${app}/api/v1/events`, { ...(await t.auth(user)), ...headers });
      streams.push(s);
      await s.next(() => true, 200).catch(() => undefined); // let the subscription settle
      return s;
    };
    const data = (e: { data: string }) => JSON.parse(e.data);

    before(async () => {
      t = await startTestApp({ engine });
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      for (const u of ['alice', 'bob']) await api(u, 'GET', '/users/me');
    });
    after(async () => {
      for (const s of streams) s.close();
      await t?.close();
    });

    it('streams a call\'s changes to those who may see it, and nothing to others', async () => {
      const alice = await stream('alice');
      const bob = await stream('bob');
      assert.equal(alice.status, 200);
      assert.ok(alice.comments.includes('connected'));
      const room = await api('alice', 'POST', '/rooms', { name: 'Live' });
      const created = await alice.next((e) => e.event === 'call.created' && data(e).call_id === room.call_id);
      assert.ok(created.id);

      const participant = { sid: uid('PA'), identity: t.userId('alice'), name: 'Alice', joinedAtMs: Date.now() };
      const r = { name: room.room_name };
      const now = Math.floor(Date.now() / 1000);
      await deliver(t, eventJson({ event: 'participant_joined', createdAt: now, room: r, participant }));
      await deliver(t, eventJson({ event: 'track_published', createdAt: now, room: r, participant, track: { sid: uid('TR'), source: 2 } }));
      const joined = await alice.next((e) => e.event === 'participant.joined');
      assert.equal(data(joined).payload.identity, t.userId('alice'));
      const media = await alice.next((e) => e.event === 'participant.media_changed');
      assert.equal(data(media).payload.audio_enabled, true);
      assert.ok(Number(media.id) > Number(joined.id), 'in commit order');
      await alice.next((e) => e.event === 'call.started');

      // A public room is visible to bob, so its events reach him.
      const pub = await api('alice', 'POST', '/rooms', { name: 'Open', privacy: 'public' });
      await bob.next((e) => e.event === 'call.created' && data(e).call_id === pub.call_id);
      assert.ok(!bob.events.some((e) => data(e).call_id === room.call_id), 'nothing from the private room');
    });

    it('resumes from Last-Event-ID without gaps or repeats', async () => {
      const first = await stream('alice');
      const room = await api('alice', 'POST', '/rooms', { name: 'Resume' });
      const seen = await first.next((e) => e.event === 'call.created' && data(e).call_id === room.call_id);
      first.close();
      await api('alice', 'DELETE', `/rooms/${room.call_id}`);
      const again = await api('alice', 'POST', '/rooms', { name: 'Resume 2' });
      const resumed = await stream('alice', base, { 'last-event-id': seen.id! });
      await resumed.next((e) => e.event === 'call.created' && data(e).call_id === again.call_id);
      const types = resumed.events.map((e) => `${e.event}:${data(e).call_id}`);
      assert.deepEqual(types.slice(0, 2), [`call.ended:${room.call_id}`, `call.created:${again.call_id}`]);
      const ids = resumed.events.map((e) => Number(e.id));
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.ok(ids.every((id) => id > Number(seen.id)));
      assert.equal(new Set(ids).size, ids.length);
    });

    it('needs a signed-in user', async () => {
      const res = await fetch(`${base}/api/v1/events`);
      assert.equal(res.status, 401);
      await res.body?.cancel();
    });

    it('cleans up old events', async () => {
      await t.ctx.db.privileged((sql) =>
        sql.query(`INSERT INTO call_events (audience_user_id, type, created_at) VALUES ($1, 'old', now() - interval '2 days')`, [
          t.userId('alice'),
        ]),
      );
      const removed = await cleanupEvents(t.ctx.db);
      assert.ok(removed.events >= 1);
      const { rows } = await t.ctx.db.privileged((sql) => sql.query(`SELECT 1 FROM call_events WHERE type = 'old'`));
      assert.equal(rows.length, 0);
    });

    if (engine === 'postgres') {
      it('fans out across instances through LISTEN/NOTIFY', async () => {
        const other = await startTestApp({ database: t.database });
        try {
          const otherBase = await other.app.listen({ host: '127.0.0.1', port: 0 });
          const onOther = await stream('alice', otherBase);
          const room = await api('alice', 'POST', '/rooms', { name: 'Across' }); // written through the first instance
          await onOther.next((e) => e.event === 'call.created' && data(e).call_id === room.call_id);
          onOther.close();
        } finally {
          await other.close();
        }
      });
    }
  });
}
