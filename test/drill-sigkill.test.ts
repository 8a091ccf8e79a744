// Failure drills on a real process: LiveKit unreachable (clean 503s, no half-made room),
// and the service killed with SIGKILL in the middle of a webhook burst, restarted, and
// sent every event again as LiveKit's retries would: one correct history, nothing doubled.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devToken, devUserId } from '../src/cli/dev-token.ts';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/db.ts';
import { freePort, startInstance, type Instance } from './helpers/instances.ts';
import { serviceSkip } from './helpers/services.ts';
import { eventJson, sign, uid } from './helpers/webhooks.ts';

const skip = await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL');
const LK = { key: 'auralink-drill-key', secret: 'auralink-drill-livekit-secret-0123456789abcd' };

describe('drills: LiveKit down, SIGKILL mid-webhook burst', { skip, timeout: 120_000 }, () => {
  let database: TestDatabase;
  let instance: Instance | null = null;
  let env: Record<string, string>;
  const auth = async (n: string) => ({ authorization: `Bearer ${await devToken(DEV_JWT_SECRET, n)}` });
  const call = async (method: string, url: string, body?: object, who = 'alice') => {
    const res = await fetch(`${instance!.base}/api/v1${url}`, {
      method,
      headers: { ...(await auth(who)), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    });
    return { status: res.status, json: (res.status === 204 ? null : await res.json()) as any };
  };
  const count = async (sqlText: string, params: unknown[] = []) =>
    database.db.privileged(async (sql) => (await sql.query<{ n: number }>(sqlText, params)).rows[0]!.n);

  before(async () => {
    database = await createTestDatabase('postgres');
    env = {
      DATABASE_URL: database.url!,
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-drill-')),
      JOBS_ENABLED: 'false',
      RATE_LIMIT_MAX: '1000000',
      MIGRATE_ON_START: 'false',
      LIVEKIT_API_KEY: LK.key,
      LIVEKIT_API_SECRET: LK.secret,
    };
  });
  after(async () => {
    await instance?.kill();
    await database?.cleanup();
  });

  it('answers 503 UPSTREAM_UNAVAILABLE while LiveKit is unreachable, and stores no half-made room', async () => {
    const closed = await freePort(); // nothing listens there
    instance = await startInstance({ ...env, LIVEKIT_URL: `ws://127.0.0.1:${closed}` });
    await call('GET', '/users/me');
    const before = await count('SELECT count(*)::int AS n FROM calls');
    const res = await call('POST', '/rooms', { name: 'No LiveKit' });
    assert.equal(res.status, 503, JSON.stringify(res.json));
    assert.equal(res.json.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(await count('SELECT count(*)::int AS n FROM calls'), before, 'room and row together or not at all');
    const ready = await fetch(`${instance.base}/readiness`);
    const body = (await ready.json()) as { checks: { livekit: { status: string } } };
    assert.notEqual(body.checks.livekit.status, 'ok');
    await instance.stop();
    instance = null;
  });

  it('keeps one correct history when killed mid-burst and every event is delivered again', async () => {
    instance = await startInstance(env); // records-only LiveKit: rooms need no server here
    await call('GET', '/users/me');
    const room = (await call('POST', '/rooms', { name: 'Burst', max_participants: 1000 })).json;
    const now = Math.floor(Date.now() / 1000);
    const SESSIONS = 120;
    const bodies: string[] = [];
    for (let k = 0; k < SESSIONS; k++) {
      const participant = { sid: uid('PA'), identity: `guest-${k}`, joinedAtMs: now * 1000 };
      bodies.push(eventJson({ event: 'participant_joined', createdAt: now, room: { name: room.room_name }, participant }));
      // Every second guest leaves again a minute later.
      if (k % 2 === 0) {
        bodies.push(eventJson({ event: 'participant_left', createdAt: now + 60, room: { name: room.room_name }, participant: { ...participant, disconnectReason: 1 } }));
      }
    }
    const send = async (body: string, base: string) => {
      const res = await fetch(`${base}/api/v1/webhooks/livekit`, {
        method: 'POST',
        headers: { 'content-type': 'application/webhook+json', authorization: await sign(body, LK.key, LK.secret) },
        body,
      }).catch(() => null);
      await res?.arrayBuffer().catch(() => undefined);
      return res?.status ?? 0;
    };
    const first = instance;
    let acked = 0;
    const burst = Promise.all(
      bodies.map(async (b, i) => {
        await new Promise((r) => setTimeout(r, i * 3));
        if ((await send(b, first.base)) === 200) acked++;
      }),
    );
    while (acked < bodies.length / 3) await new Promise((r) => setTimeout(r, 5));
    await first.kill();
    await burst;
    assert.ok(acked < bodies.length, 'the kill landed mid-burst');

    // Restarted; LiveKit retries everything it has no 200 for (here: everything, in reverse).
    instance = await startInstance(env);
    const statuses = await Promise.all([...bodies].reverse().map((b) => send(b, instance!.base)));
    assert.deepEqual([...new Set(statuses)], [200]);

    assert.equal(await count(`SELECT count(*)::int AS n FROM webhook_events WHERE room_name = $1`, [room.room_name]), bodies.length);
    const byStatus = async (status: string) =>
      count(`SELECT count(*)::int AS n FROM call_participants WHERE call_id = $1 AND identity LIKE 'guest-%' AND status = $2`, [room.call_id, status]);
    assert.equal(await count(`SELECT count(*)::int AS n FROM call_participants WHERE call_id = $1 AND identity LIKE 'guest-%'`, [room.call_id]), SESSIONS);
    assert.equal(await byStatus('connected'), SESSIONS / 2);
    assert.equal(await byStatus('left'), SESSIONS / 2);
    const creatorConnected = await count(
      `SELECT count(*)::int AS n FROM call_participants WHERE call_id = $1 AND user_id = $2 AND status = 'connected'`, [room.call_id, devUserId('alice')]);
    assert.equal(await count(`SELECT participant_count AS n FROM calls WHERE call_id = $1`, [room.call_id]), SESSIONS / 2 + creatorConnected);
  });
});
