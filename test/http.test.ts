// The cross-cutting HTTP surface: error shape everywhere, request ids, limits,
// rate limiting (in memory and shared through Redis), health, metrics, OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { serviceSkip, tcpReachable } from './helpers/services.ts';

function assertErrorShape(body: unknown, code: string) {
  const b = body as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof b.error?.message, 'string');
  assert.equal(b.error?.code, code);
}

describe('HTTP surface', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  after(() => t.close());

  it('answers unknown routes, missing and bad tokens in the contract shape', async () => {
    let res = await t.app.inject({ url: '/api/v1/nope' });
    assert.equal(res.statusCode, 404);
    assertErrorShape(res.json(), 'NOT_FOUND');
    res = await t.app.inject({ url: '/api/v1/users/me' });
    assert.equal(res.statusCode, 401);
    assertErrorShape(res.json(), 'UNAUTHORIZED');
    for (const authorization of ['Bearer', 'Basic abc', 'Bearer a.b.c', `Bearer ${'x'.repeat(5000)}`]) {
      res = await t.app.inject({ url: '/api/v1/users/me', headers: { authorization } });
      assert.equal(res.statusCode, 401, authorization.slice(0, 20));
      assertErrorShape(res.json(), 'UNAUTHORIZED');
    }
  });

  it('rejects malformed JSON and oversized bodies with 400 and 413', async () => {
    const headers = { ...(await t.auth('alice')), 'content-type': 'application/json' };
    let res = await t.app.inject({ method: 'PUT', url: '/api/v1/users/me', headers, payload: '{"display_name":' });
    assert.equal(res.statusCode, 400);
    assertErrorShape(res.json(), 'VALIDATION_ERROR');
    res = await t.app.inject({ method: 'PUT', url: '/api/v1/users/me', headers, payload: JSON.stringify({ display_name: 'x'.repeat(5000) }) });
    assert.equal(res.statusCode, 413);
    assertErrorShape(res.json(), 'PAYLOAD_TOO_LARGE');
    res = await t.app.inject({ method: 'PUT', url: '/api/v1/users/me', headers: { ...headers, 'content-type': 'text/csv' }, payload: 'a,b' });
    assert.equal(res.statusCode, 415);
    assertErrorShape(res.json(), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('echoes a sane x-request-id and invents one otherwise', async () => {
    let res = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    res = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\twith spaces' } });
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('sets security headers and CORS', async () => {
    const res = await t.app.inject({ url: '/health', headers: { origin: 'https://app.example' } });
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['access-control-allow-origin']);
  });

  it('serves health, liveness, readiness, metrics, OpenAPI and docs', async () => {
    assert.deepEqual((await t.app.inject({ url: '/health' })).json(), { status: 'ok' });
    assert.equal((await t.app.inject({ url: '/liveness' })).statusCode, 200);
    const ready = await t.app.inject({ url: '/readiness' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().checks.database.status, 'ok');
    await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('alice') });
    const metrics = await t.app.inject({ url: '/metrics' });
    assert.match(metrics.body, /auralink_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/users\/me"[^}]*status_code="200"/);
    assert.match(metrics.body, /auralink_db_pool_connections\{state="total"\}/);
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/users/me'].get);
    assert.ok(doc.components.securitySchemes.bearerAuth);
    const docs = await t.app.inject({ url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });
});

describe('readiness with the database gone', () => {
  it('answers 503 down, and requests get 5xx in the error shape, not a crash', async () => {
    const t = await startTestApp({ inProcess: 'ends the app’s own pool' });
    const headers = await t.auth('alice');
    await t.database.db.pool.end();
    const ready = await t.app.inject({ url: '/readiness' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().status, 'down');
    assert.equal(ready.json().checks.database.status, 'down');
    const res = await t.app.inject({ url: '/api/v1/users/me', headers });
    assert.ok(res.statusCode >= 500);
    assert.equal(typeof res.json().error.code, 'string');
    await t.app.close();
    await t.database.cleanup().catch(() => undefined);
  });
});

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const { hostname, port } = new URL(redisUrl);
const skip = await serviceSkip('Redis', await tcpReachable(hostname, Number(port || 6379)), redisUrl);

describe('rate limiting', () => {
  it('limits per user and per address with 429 and Retry-After', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' } });
    try {
      const alice = await t.auth('alice');
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await t.app.inject({ url: '/api/v1/users/me', headers: alice })).statusCode);
      assert.deepEqual(codes, [200, 200, 200, 429]);
      const limited = await t.app.inject({ url: '/api/v1/users/me', headers: alice });
      assertErrorShape(limited.json(), 'RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      // Another user has a budget of their own.
      assert.equal((await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('bob') })).statusCode, 200);
      // Anonymous callers are limited by address.
      const anon = [];
      for (let i = 0; i < 4; i++) anon.push((await t.app.inject({ url: '/api/v1/users/me', remoteAddress: '10.9.9.9' })).statusCode);
      assert.deepEqual(anon, [401, 401, 401, 429]);
    } finally {
      await t.close();
    }
  });

  it('fails open when Redis is unreachable, and readiness says degraded', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_MAX: '2', REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const res = await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('alice') });
      assert.equal(res.statusCode, 200);
      const ready = await t.app.inject({ url: '/readiness' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().status, 'degraded');
      assert.equal(ready.json().checks.redis.status, 'down');
    } finally {
      await t.close();
    }
  });

  describe('shared through Redis', { skip }, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase();
    });
    after(() => database.cleanup());

    it('two instances share one budget', async () => {
      const env = { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '60000', REDIS_URL: redisUrl };
      const one = await startTestApp({ env, database });
      const two = await startTestApp({ env, database });
      try {
        // A user name unique to this run, so earlier runs' counters do not interfere.
        const headers = await one.auth(`rl${Date.now().toString(36)}`);
        const codes = [];
        for (let i = 0; i < 6; i++) {
          const app = i % 2 === 0 ? one.app : two.app;
          codes.push((await app.inject({ url: '/api/v1/users/me', headers })).statusCode);
        }
        assert.deepEqual(codes, [200, 200, 200, 200, 429, 429]);
        assert.equal((await one.app.inject({ url: '/readiness' })).json().checks.redis.status, 'ok');
      } finally {
        await one.close();
        await two.close();
      }
    });
  });
});
