// /readiness against real dependencies going down. Required: the database, the
// storage, and LiveKit when configured; down means 503, so a load balancer stops
// sending this instance requests it cannot serve. Optional: the scanner and Redis;
// down means 200 "degraded", and the service keeps working without them (uploads
// wait as pending, rate limits fail open). Storage goes down for real here (a
// private MinIO killed and started again); LiveKit, clamd and Redis "down" are their
// URLs pointing at a closed port, "up" the real services of scripts/test-services.sh.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkServices } from '../src/startup.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { postgresAvailable } from './helpers/db.ts';
import { minioBinary, minioStorageEnv, startPrivateMinio, type PrivateMinio } from './helpers/drills.ts';
import { listen, makeCall, upload } from './helpers/files.ts';
import { eventually, freePort } from './helpers/instances.ts';
import { livekitAppEnv, livekitSkip } from './helpers/livekit.ts';
import { serviceSkip, tcpReachable } from './helpers/services.ts';

interface Check {
  status: string;
  required: boolean;
  latency_ms?: number;
  message?: string;
}
interface Report {
  status: string;
  checks: Record<string, Check>;
}

const clamd = { host: process.env.TEST_CLAMD_HOST ?? '127.0.0.1', port: Number(process.env.TEST_CLAMD_PORT ?? 3310) };
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new URL(redisUrl);
const bin = minioBinary();
const pgSkip = await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL');
const allUpSkip =
  pgSkip ||
  (await serviceSkip('a MinIO binary for a private instance', bin !== null, '~/.cache/auralink/bin/minio-*/minio')) ||
  (await livekitSkip()) ||
  (await serviceSkip('clamd', await tcpReachable(clamd.host, clamd.port), `${clamd.host}:${clamd.port}`)) ||
  (await serviceSkip('Redis', await tcpReachable(redis.hostname, Number(redis.port || 6379)), redisUrl));

async function readiness(t: TestApp): Promise<{ code: number; body: Report }> {
  const res = await t.app.inject({ method: 'GET', url: '/readiness' });
  return { code: res.statusCode, body: res.json() as Report };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-readiness-'));
}

describe('readiness with every dependency real, then storage killed', { skip: allUpSkip, timeout: 120_000 }, () => {
  let dir: string;
  let minio: PrivateMinio;
  let t: TestApp;

  before(async () => {
    dir = tmpDir();
    minio = await startPrivateMinio(bin!, dir);
    t = await startTestApp({
      engine: 'postgres',
      env: {
        // A bucket nobody made: the start-up check creates it.
        ...minioStorageEnv(minio, `ready-${crypto.randomBytes(4).toString('hex')}`),
        ...livekitAppEnv(),
        CLAMD_HOST: clamd.host,
        CLAMD_PORT: String(clamd.port),
        REDIS_URL: redisUrl,
      },
    });
  });
  after(async () => {
    await t?.close().catch(() => undefined);
    await minio?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is 200 ok with each dependency, and says which are required', async () => {
    assert.deepEqual(await checkServices(t.ctx), [], 'the start-up check passes (and creates the bucket)');
    const { code, body } = await readiness(t);
    assert.equal(code, 200, JSON.stringify(body));
    assert.equal(body.status, 'ok');
    const required = Object.fromEntries(Object.entries(body.checks).map(([n, c]) => [n, c.required]));
    assert.deepEqual(required, { database: true, storage: true, livekit: true, scanner: false, redis: false });
    for (const [name, c] of Object.entries(body.checks)) {
      assert.equal(c.status, 'ok', `${name}: ${c.message}`);
      assert.equal(typeof c.latency_ms, 'number');
    }
  });

  it('is 503 down while the storage is down, and 200 again once it is back', async () => {
    await minio.kill();
    const down = await readiness(t);
    assert.equal(down.code, 503, JSON.stringify(down.body));
    assert.equal(down.body.status, 'down');
    assert.equal(down.body.checks.storage!.status, 'down');
    assert.equal(down.body.checks.storage!.required, true);
    assert.ok(down.body.checks.storage!.message, 'says why');
    assert.equal(down.body.checks.database!.status, 'ok');
    assert.equal(down.body.checks.livekit!.status, 'ok');
    await minio.start();
    const back = await eventually(async () => {
      const r = await readiness(t);
      return r.code === 200 ? r : undefined;
    }, 20_000, 'readiness 200 with storage back');
    assert.equal(back?.body.status, 'ok');
  });
});

describe('readiness with LiveKit configured and down', { skip: pgSkip }, () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    dir = tmpDir();
    t = await startTestApp({
      engine: 'postgres',
      env: {
        DATA_DIR: dir,
        STORAGE_BACKEND: 'disk',
        LIVEKIT_URL: `ws://127.0.0.1:${await freePort()}`,
        LIVEKIT_API_KEY: 'readiness-key',
        LIVEKIT_API_SECRET: 'readiness-livekit-secret-0123456789abcdef',
      },
    });
  });
  after(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is 503 down, naming livekit as required', async () => {
    const { code, body } = await readiness(t);
    assert.equal(code, 503, JSON.stringify(body));
    assert.equal(body.status, 'down');
    assert.deepEqual(body.checks.livekit && { status: body.checks.livekit.status, required: body.checks.livekit.required }, {
      status: 'down',
      required: true,
    });
    assert.equal(body.checks.storage!.status, 'ok');
    assert.equal(body.checks.database!.status, 'ok');
    // What an instance in this state does: no room can be made.
    const room = await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: await t.auth('alice'), payload: { name: 'x' } });
    assert.equal(room.statusCode, 503);
    assert.equal(room.json().error.code, 'UPSTREAM_UNAVAILABLE');
  });
});

describe('readiness without LiveKit, with the scanner and Redis down', { skip: pgSkip }, () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    dir = tmpDir();
    const closed = await freePort();
    t = await startTestApp({
      engine: 'postgres',
      env: {
        DATA_DIR: dir,
        STORAGE_BACKEND: 'disk',
        CLAMD_HOST: '127.0.0.1',
        CLAMD_PORT: String(closed),
        REDIS_URL: `redis://127.0.0.1:${closed}`,
        RATE_LIMIT_MAX: '2',
      },
    });
  });
  after(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is 200 degraded: optional dependencies down, LiveKit not configured and not required', async () => {
    const { code, body } = await readiness(t);
    assert.equal(code, 200, JSON.stringify(body));
    assert.equal(body.status, 'degraded');
    assert.deepEqual(
      Object.fromEntries(Object.entries(body.checks).map(([n, c]) => [n, [c.status, c.required]])),
      {
        database: ['ok', true],
        storage: ['ok', true],
        livekit: ['not_configured', false],
        scanner: ['down', false],
        redis: ['down', false],
      },
    );
  });

  it('still takes uploads (as pending) and does not rate-limit while they are down', async () => {
    const base = await listen(t);
    const call = await makeCall(t, 'alice');
    const res = await upload(base, await t.token('alice'), { callId: call.callId, data: new TextEncoder().encode('hello') });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await res.json()).scan_status, 'pending');
    // RATE_LIMIT_MAX=2, yet with its Redis store down the limiter lets every request through.
    const headers = await t.auth('bob');
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await t.app.inject({ url: '/api/v1/users/me', headers })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 200]);
  });
});
