import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('users', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('creates the profile from the token claims on first sight', async () => {
    const res = await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('alice') });
    assert.equal(res.statusCode, 200);
    const me = res.json();
    assert.equal(me.user_id, t.userId('alice'));
    assert.equal(me.aura_id, '@alice.aura');
    assert.equal(me.email, 'alice@example.test');
    assert.equal(me.display_name, 'Alice');
    assert.ok(!Number.isNaN(Date.parse(me.created_at)));
  });

  it('survives many concurrent first requests of one new user', async () => {
    const headers = await t.auth('racer');
    const results = await Promise.all(
      Array.from({ length: 12 }, () => t.app.inject({ url: '/api/v1/users/me', headers })),
    );
    assert.deepEqual(results.map((r) => r.statusCode), Array(12).fill(200));
    const { rows } = await t.database.db.privileged((sql) =>
      sql.query('SELECT count(*)::int AS n FROM users WHERE user_id = $1', [t.userId('racer')]),
    );
    assert.equal(rows[0].n, 1);
  });

  it('keeps a user whose claimed AuraID is taken, without the AuraID', async () => {
    await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('alice') });
    const sub = '5d1f1b7e-5f7a-4a8e-9f39-3c4f0f6b2a11';
    const token = await new SignJWT({ user_metadata: { aura_id: '@alice.aura' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(t.config.auth.jwtSecret));
    const res = await t.app.inject({ url: '/api/v1/users/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().aura_id, null);
  });

  it('updates the own profile; a taken AuraID is 409, a malformed one 400', async () => {
    const headers = await t.auth('bob');
    let res = await t.app.inject({ method: 'PUT', url: '/api/v1/users/me', headers, payload: { display_name: 'Bobby', avatar_url: 'https://example.test/b.png' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().display_name, 'Bobby');
    assert.equal(res.json().avatar_url, 'https://example.test/b.png');
    await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('alice') });
    res = await t.app.inject({ method: 'PUT', url: '/api/v1/users/me', headers, payload: { aura_id: '@alice.aura' } });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error.code, 'CONFLICT');
    res = await t.app.inject({ method: 'PUT', url: '/api/v1/users/me', headers, payload: { aura_id: 'alice' } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'VALIDATION_ERROR');
    res = await t.app.inject({ method: 'PUT', url: '/api/v1/users/me', headers, payload: { aura_id: '@bobby.aura' } });
    assert.equal(res.json().aura_id, '@bobby.aura');
  });

  it('looks up public profiles by AuraID without private fields', async () => {
    await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('carol') });
    const res = await t.app.inject({ url: '/api/v1/users/lookup?aura_id=@carol.aura', headers: await t.auth('dave') });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(Object.keys(res.json()).sort(), ['aura_id', 'avatar_url', 'display_name', 'user_id']);
    const missing = await t.app.inject({ url: '/api/v1/users/lookup?aura_id=@nobody.aura', headers: await t.auth('dave') });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'NOT_FOUND');
    const anon = await t.app.inject({ url: '/api/v1/users/lookup?aura_id=@carol.aura' });
    assert.equal(anon.statusCode, 401);
  });
});
