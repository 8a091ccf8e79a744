// Client config and the development sign-in: the modes follow the environment, and
// the sign-in token is exactly a dev-token one, refused outside development.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { loadConfig } from '../../config.ts';
import { createVerifier } from '../../http/auth.ts';
import { devUserId } from '../../http/dev-tokens.ts';
import { registerErrorHandling } from '../../http/error-handler.ts';
import { ErrorResponse } from '../../http/schemas.ts';
import { webConfigRoutes } from './webconfig.routes.ts';
import { WebConfigService } from './webconfig.service.ts';

async function appFor(env: Record<string, string>, livekitUrl: string | null = null) {
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  const app = Fastify();
  registerErrorHandling(app);
  app.addSchema(ErrorResponse);
  await app.register(webConfigRoutes, { web: new WebConfigService(config, livekitUrl), prefix: '/api/v1' });
  return { app, config };
}

describe('client config', () => {
  it('is development with the development secret, and says whether LiveKit is there', async () => {
    const { app } = await appFor({}, 'ws://127.0.0.1:7880');
    const res = await app.inject({ url: '/api/v1/client-config' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { auth: { mode: 'development' }, livekit: { configured: true, url: 'ws://127.0.0.1:7880' } });
    const none = await appFor({});
    assert.deepEqual((await none.app.inject({ url: '/api/v1/client-config' })).json().livekit, { configured: false });
  });

  it('is supabase with its URL and anon key, and external with a real secret alone', async () => {
    const supa = await appFor({ SUPABASE_URL: 'https://proj.supabase.co', SUPABASE_ANON_KEY: 'anon-key' });
    assert.deepEqual((await supa.app.inject({ url: '/api/v1/client-config' })).json().auth, {
      mode: 'supabase',
      supabase_url: 'https://proj.supabase.co',
      supabase_anon_key: 'anon-key',
    });
    const ext = await appFor({ SUPABASE_JWT_SECRET: 'x'.repeat(40) });
    assert.deepEqual((await ext.app.inject({ url: '/api/v1/client-config' })).json().auth, { mode: 'external' });
  });
});

describe('development sign-in', () => {
  it('mints a development token the service verifies as the named user', async () => {
    const { app, config } = await appFor({});
    const res = await app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name: 'carol' } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.token_type, 'bearer');
    assert.deepEqual(body.user, {
      user_id: devUserId('carol'),
      email: 'carol@example.test',
      aura_id: '@carol.aura',
      display_name: 'Carol',
      username: 'carol',
    });
    const user = await createVerifier(config)(body.access_token);
    assert.equal(user.id, devUserId('carol'));
    assert.equal(user.auraId, '@carol.aura');
    assert.ok(Date.parse(body.expires_at) > Date.now() + 3600_000);
  });

  it('rejects names that are not development names', async () => {
    const { app } = await appFor({});
    for (const name of ['', 'a b', 'x'.repeat(33), '../x']) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name } });
      assert.equal(res.statusCode, 400, name);
      assert.equal(res.json().error.code, 'VALIDATION_ERROR');
    }
  });

  it('mints an operator token only when asked, with the configured claim', async () => {
    const { app, config } = await appFor({});
    const plain = await app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name: 'olga' } });
    assert.equal((await createVerifier(config)(plain.json().access_token)).operator, false);
    const op = await app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name: 'olga', operator: true } });
    assert.equal(op.statusCode, 200, op.body);
    const user = await createVerifier(config)(op.json().access_token);
    assert.equal(user.operator, true);
    assert.equal(user.id, devUserId('olga'));
    // a custom claim path is honoured
    const custom = await appFor({ OPERATOR_CLAIM: 'app_metadata.roles.admin', OPERATOR_CLAIM_VALUE: 'yes' });
    const res = await custom.app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name: 'olga', operator: true } });
    assert.equal((await createVerifier(custom.config)(res.json().access_token)).operator, true);
    // no claim configured: the request says why instead of minting a plain token
    const none = await appFor({ OPERATOR_CLAIM: 'none' });
    const refused = await none.app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name: 'olga', operator: true } });
    assert.equal(refused.statusCode, 400);
  });

  it('is not found once a real secret is configured', async () => {
    const { app } = await appFor({ SUPABASE_JWT_SECRET: 'y'.repeat(40) });
    const res = await app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name: 'carol' } });
    assert.equal(res.statusCode, 404);
    const op = await app.inject({ method: 'POST', url: '/api/v1/dev/sign-in', payload: { name: 'carol', operator: true } });
    assert.equal(op.statusCode, 404);
    assert.equal(res.json().error.code, 'NOT_FOUND');
  });
});
