// Three real service processes on one PostgreSQL database and one Redis, with a
// round-robin client in front: live events reach subscribers on every instance, rate
// limits are one budget, a job's lock is shared, and webhooks spread over instances
// in any order (and twice) give the same history as one in-order delivery. Twice: as
// three single processes, and as three instances of WORKERS=2 each (six HTTP workers).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { devToken, devUserId } from '../src/cli/dev-token.ts';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/db.ts';
import { startInstance, eventually, type Instance } from './helpers/instances.ts';
import { serviceSkip, tcpReachable, urlHostPort } from './helpers/services.ts';
import { openSse, type SseStream } from './helpers/sse.ts';
import { eventJson, sign, uid, type EventSpec } from './helpers/webhooks.ts';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await tcpReachable(urlHostPort(redisUrl, 6379).host, urlHostPort(redisUrl, 6379).port);
const skip =
  (await serviceSkip('Redis', redisUp, redisUrl)) ||
  (await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL'));

const LK = { key: 'auralink-multi-key', secret: 'auralink-multi-instance-secret-0123456789ab' };
const RATE_LIMIT = 25;
const QUALITY_LOCK = 727_004; // src/jobs/quality-retention.ts LOCK_KEY
const T0 = 1_800_000_000;
const MIC = 2;
const CAMERA = 1;

for (const workers of ['1', '2']) describe(`several instances on one database (WORKERS=${workers} each)`, { skip, timeout: 240_000 }, () => {
  let database: TestDatabase;
  const instances: Instance[] = [];
  const streams: SseStream[] = [];
  const run = crypto.randomBytes(3).toString('hex'); // user names unique per run: Redis is shared with other tests
  const name = (n: string) => `${n}${run}`;
  const auth = async (n: string) => ({ authorization: `Bearer ${await devToken(DEV_JWT_SECRET, name(n))}` });
  let rr = 0;
  const next = () => instances[rr++ % instances.length]!;
  const api = async (user: string, method: string, url: string, body?: object, on = next()) => {
    const res = await fetch(`${on.base}/api/v1${url}`, {
      method,
      headers: { ...(await auth(user)), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    });
    const json = res.status === 204 ? null : await res.json();
    return { status: res.status, json: json as any };
  };

  before(async () => {
    database = await createTestDatabase('postgres');
    const env = {
      WORKERS: workers,
      DATABASE_URL: database.url!,
      REDIS_URL: redisUrl,
      JOBS_ENABLED: 'true',
      JOBS_INTERVAL_SECONDS: '1',
      QUALITY_RETENTION_DAYS: '1',
      RATE_LIMIT_MAX: String(RATE_LIMIT),
      RATE_LIMIT_WINDOW_MS: '60000',
      MIGRATE_ON_START: 'false',
      LIVEKIT_API_KEY: LK.key,
      LIVEKIT_API_SECRET: LK.secret,
    };
    const started = await Promise.all(
      [0, 1, 2].map(() => startInstance({ ...env, DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-multi-')) })),
    );
    instances.push(...started);
    for (const u of ['alice', 'bob']) assert.equal((await api(u, 'GET', '/users/me')).status, 200);
  });

  after(async () => {
    for (const s of streams) s.close();
    await Promise.all(instances.map((i) => i.stop()));
    await database?.cleanup();
  });

  it('delivers an event caused on one instance to subscribers on every instance', async () => {
    for (const i of instances) {
      const s = await openSse(`${i.base}/api/v1/events`, await auth('alice'));
      assert.equal(s.status, 200);
      streams.push(s);
    }
    await new Promise((r) => setTimeout(r, 300)); // let the LISTENs settle
    const room = (await api('alice', 'POST', '/rooms', { name: 'Fan-out' }, instances[1])).json;
    for (const s of streams) {
      await s.next((e) => e.event === 'call.created' && JSON.parse(e.data).call_id === room.call_id, 10_000);
    }
  });

  /** One session each for alice (mic on then off, leaves after 60 s) and bob (camera, stays). */
  const sessionEvents = async () => {
    const room = (await api('alice', 'POST', '/rooms', { name: 'Webhooks', invitees: [`@${name('bob')}.aura`] })).json;
    assert.ok(room.call_id, JSON.stringify(room));
    await api('alice', 'POST', `/rooms/${room.call_id}/token`, {});
    await api('bob', 'POST', `/rooms/${room.call_id}/token`, {});
    const r = { name: room.room_name };
    const alice = { sid: uid('PA'), identity: devUserId(name('alice')), name: 'Alice', joinedAtMs: T0 * 1000 + 250 };
    const bob = { sid: uid('PA'), identity: devUserId(name('bob')), name: 'Bob', joinedAtMs: T0 * 1000 + 900 };
    const mic = { sid: uid('TR'), source: MIC };
    const events: EventSpec[] = [
      { event: 'room_started', createdAt: T0 - 5, room: r },
      { event: 'participant_joined', createdAt: T0, room: r, participant: alice },
      { event: 'participant_joined', createdAt: T0, room: r, participant: bob },
      { event: 'track_published', createdAt: T0 + 1, room: r, participant: alice, track: { ...mic, unixMicro: (T0 + 1) * 1e6 + 10 } },
      { event: 'track_published', createdAt: T0 + 2, room: r, participant: bob, track: { sid: uid('TR'), source: CAMERA } },
      { event: 'track_unpublished', createdAt: T0 + 1, room: r, participant: alice, track: { ...mic, unixMicro: (T0 + 1) * 1e6 + 900 } },
      { event: 'participant_left', createdAt: T0 + 61, room: r, participant: { ...alice, disconnectReason: 1 } },
    ];
    return { room, bodies: events.map((e) => eventJson({ ...e, id: uid('EV') })) };
  };
  const deliver = async (body: string, on: Instance) => {
    const res = await fetch(`${on.base}/api/v1/webhooks/livekit`, {
      method: 'POST',
      headers: { 'content-type': 'application/webhook+json', authorization: await sign(body, LK.key, LK.secret) },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  };
  const snapshot = async (callId: string) => {
    const call = (await api('alice', 'GET', `/calls/${callId}`)).json;
    const { participants } = (await api('alice', 'GET', `/calls/${callId}/participants`)).json;
    return {
      call: { status: call.status, started_at: call.started_at, ended_at: call.ended_at, count: call.participant_count },
      participants: participants
        .map((p: Record<string, unknown>) => ({ ...p, participant_id: undefined, user_id: undefined, identity: (p.identity as string) === devUserId(name('alice')) ? 'alice' : 'bob' }))
        .sort((a: { identity: string }, b: { identity: string }) => a.identity.localeCompare(b.identity)),
    };
  };

  it('gives one correct history for webhooks spread over instances, shuffled, concurrent and repeated', async () => {
    const reference = await sessionEvents();
    for (const b of reference.bodies) assert.equal(await deliver(b, instances[0]!), 200);
    const expected = await snapshot(reference.room.call_id);
    assert.equal(expected.call.count, 1);
    assert.equal(expected.participants.find((p: { identity: string }) => p.identity === 'alice').status, 'left');

    for (let round = 0; round < 3; round++) {
      const { room, bodies } = await sessionEvents();
      const deliveries = [...bodies, ...bodies].map((b) => ({ b, k: Math.random() })).sort((x, y) => x.k - y.k);
      const statuses = await Promise.all(deliveries.map(({ b }) => deliver(b, next())));
      assert.deepEqual([...new Set(statuses)], [200]);
      assert.deepEqual(await snapshot(room.call_id), expected, `round ${round}`);
    }
    // Subscribers on instance 0 saw sessions applied by all three.
    await streams[0]!.next((e) => e.event === 'participant.joined', 10_000);
  });

  it('shares one rate-limit budget across instances through Redis', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT + 6; i++) statuses.push((await api('carol', 'GET', '/users/me')).status);
    assert.equal(statuses.filter((s) => s === 200).length, RATE_LIMIT, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 6);
  });

  it('runs a job on one instance at a time: none runs while another holds its lock', async () => {
    const room = (await api('alice', 'POST', '/rooms', { name: 'Retention' })).json;
    const holder = new pg.Client({ connectionString: database.url! });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [QUALITY_LOCK]);
      const { rows } = await holder.query<{ participant_id: string }>(
        `INSERT INTO call_participants (call_id, user_id, identity, status) VALUES ($1, $2, $3, 'left') RETURNING participant_id`,
        [room.call_id, devUserId(name('alice')), devUserId(name('alice'))],
      );
      await holder.query(
        `INSERT INTO quality_metrics (call_id, participant_id, recorded_at, quality_score) VALUES ($1, $2, now() - interval '3 days', 4)`,
        [room.call_id, rows[0]!.participant_id],
      );
      const count = async () => (await holder.query<{ n: number }>('SELECT count(*)::int AS n FROM quality_metrics')).rows[0]!.n;
      await new Promise((r) => setTimeout(r, 3500)); // three runs on each of three instances
      assert.equal(await count(), 1, 'no instance ran retention while the lock was held elsewhere');
      await holder.query('SELECT pg_advisory_unlock($1)', [QUALITY_LOCK]);
      await eventually(async () => (await count()) === 0, 15_000, 'retention ran once the lock was free');
    } finally {
      await holder.end();
    }
  });
});
