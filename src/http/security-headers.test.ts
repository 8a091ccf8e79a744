import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { HELMET_OPTIONS, SECURITY_HEADERS, securityHeaders } from './security-headers.ts';

const added = (headers: Record<string, unknown>) => {
  const out: Record<string, unknown> = { ...headers };
  for (const k of ['content-type', 'content-length', 'date', 'connection', 'keep-alive']) delete out[k];
  return out;
};

describe('security headers', () => {
  it('are exactly what @fastify/helmet sends with the same options, on a route, a 404 and an error', async () => {
    const build = async (withHelmet: boolean) => {
      const app = Fastify();
      if (withHelmet) await app.register(helmet, HELMET_OPTIONS);
      else securityHeaders(app);
      app.get('/ok', async () => ({ ok: true }));
      app.get('/boom', async () => {
        throw new Error('boom');
      });
      return app;
    };
    const [reference, ours] = [await build(true), await build(false)];
    for (const url of ['/ok', '/missing', '/boom']) {
      const [a, b] = [await reference.inject({ url }), await ours.inject({ url })];
      assert.equal(b.statusCode, a.statusCode, url);
      assert.deepEqual(added(b.headers), added(a.headers), url);
    }
    assert.deepEqual(added((await ours.inject({ url: '/ok' })).headers), { ...SECURITY_HEADERS });
    await Promise.all([reference.close(), ours.close()]);
  });
});
