// The web app's serving rules: index.html for client-side routes with its CSP and no
// caching, hashed assets cached for good, the JSON 404 everywhere else, and a page
// that says what to run when the app has not been built.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../config.ts';
import { registerErrorHandling } from './error-handler.ts';
import { contentSecurityPolicy, webApp } from './web.ts';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

async function appWith(dir: string): Promise<FastifyInstance> {
  const app = Fastify();
  registerErrorHandling(app);
  const config = loadConfig({ NODE_ENV: 'test', SUPABASE_URL: 'https://proj.supabase.co' });
  await app.register(webApp, { config, livekitUrl: 'ws://127.0.0.1:7880', dir });
  app.get('/api/v1/known', async () => ({ ok: true }));
  return app;
}

describe('web app serving', () => {
  let dir: string;
  let app: FastifyInstance;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'auralink-web-'));
    await fs.mkdir(path.join(dir, 'assets'));
    await fs.writeFile(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    await fs.writeFile(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    await fs.writeFile(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await fs.writeFile(path.join(os.tmpdir(), 'auralink-web-secret.txt'), 'outside');
    app = await appWith(dir);
  });
  after(async () => {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('answers / and client-side routes with index.html, uncached, with a CSP', async () => {
    for (const url of ['/', '/rooms', '/rooms/3b241101-e2bb-4255-8caf-4136c566a962', '/join/abcdefghijkl']) {
      const res = await app.inject({ url, headers: HTML });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.body, '<!doctype html><div id="root"></div>');
      const csp = res.headers['content-security-policy'] as string;
      assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:7880 http:\/\/127\.0\.0\.1:7880 https:\/\/proj\.supabase\.co/);
      assert.match(csp, /script-src 'self';/);
    }
  });

  it('serves hashed assets immutable and other files briefly cached', async () => {
    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(asset.headers['cache-control'] as string, /max-age=31536000.*immutable/);
    const icon = await app.inject({ url: '/favicon.svg' });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['cache-control'], 'public, max-age=3600');
  });

  it('keeps JSON 404s for API paths, missing files, traversal and non-browser clients', async () => {
    const cases = [
      { url: '/api/v1/nope', headers: HTML },
      { url: '/assets/missing-1.js', headers: HTML },
      { url: '/..%2fauralink-web-secret.txt', headers: HTML },
      { url: '/%2e%2e/auralink-web-secret.txt', headers: HTML },
      { url: '/rooms', headers: { accept: 'application/json' } },
      { url: '/rooms', headers: { accept: '*/*' } },
    ];
    for (const c of cases) {
      const res = await app.inject(c);
      assert.equal(res.statusCode, 404, c.url);
      assert.equal(res.json().error.code, 'NOT_FOUND', c.url);
    }
    assert.equal((await app.inject({ url: '/api/v1/known', headers: HTML })).statusCode, 200);
  });

  it('says how to build the app when web/dist is missing, and still starts', async () => {
    const bare = await appWith(path.join(dir, 'not-built'));
    try {
      const res = await bare.inject({ url: '/', headers: HTML });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /npm run build:web/);
    } finally {
      await bare.close();
    }
  });

  it('leaves LiveKit and Supabase out of the CSP when they are not configured', () => {
    assert.match(contentSecurityPolicy(null, null), /connect-src 'self';/);
    assert.match(contentSecurityPolicy('wss://lk.example.com', null), /connect-src 'self' wss:\/\/lk\.example\.com https:\/\/lk\.example\.com;/);
  });
});
