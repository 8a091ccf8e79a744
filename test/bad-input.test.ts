// Walks every registered route with malformed and hostile input: malformed JSON,
// wrong types, 100 KB strings, SQL-looking strings, non-UUID ids. Every answer must
// be below 500 and in the contract's error shape; the service must stay up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RegisteredRoute } from '../src/app.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

const HOSTILE_STRINGS = ["' OR 1=1 --", 'x'.repeat(100_000), '\u0000\u0001', '../../etc/passwd', '-1', '1e309', '{}'];
const HOSTILE_IDS = ['not-a-uuid', "1'; DROP TABLE calls; --", '00000000-0000-0000-0000-000000000000', '%00', 'ñ'];
// Streams never finish, so inject() cannot walk them; they have tests of their own.
const STREAMING = (r: RegisteredRoute) => /\/events$|\/stream$/.test(r.url);
const SKIP = (r: RegisteredRoute) =>
  r.method === 'HEAD' || r.method === 'OPTIONS' || r.url.startsWith('/docs') || STREAMING(r);

function wrongTypeBodies(schema: unknown): unknown[] {
  const props = (schema as { body?: { properties?: Record<string, unknown> } })?.body?.properties ?? {};
  const keys = Object.keys(props);
  const bodies: unknown[] = [[], 'string', 42, null, { unexpected: true }];
  for (const wrong of [123, true, [], { nested: { deep: 1 } }, null, 'x'.repeat(100_000), "' OR '1'='1"]) {
    bodies.push(Object.fromEntries(keys.map((k) => [k, wrong])));
  }
  for (const k of keys) for (const s of HOSTILE_STRINGS) bodies.push({ [k]: s });
  return bodies;
}

function queries(schema: unknown): string[] {
  const props = (schema as { querystring?: { properties?: Record<string, unknown> } })?.querystring?.properties ?? {};
  const out = ['?limit=0', '?limit=abc', '?limit=1000000', '?cursor=%%%', '?cursor=eyJ4IjoxfQ'];
  for (const k of Object.keys(props)) for (const v of [...HOSTILE_STRINGS.slice(0, 4), '', '[]']) out.push(`?${k}=${encodeURIComponent(v)}`);
  return out;
}

describe('hostile input on every route', () => {
  let t: TestApp;
  let auth: { authorization: string };
  before(async () => {
    t = await startTestApp();
    auth = await t.auth('mallory');
  });
  after(() => t.close());

  it('never answers 5xx and always answers the error shape', async () => {
    const routes = t.app.registeredRoutes.filter((r) => !SKIP(r));
    assert.ok(routes.length >= 8, `expected the app's routes, found ${routes.length}`);
    const failures: string[] = [];
    let requests = 0;
    for (const route of routes) {
      const urls = HOSTILE_IDS.map((id) => route.url.replace(/:[A-Za-z_]+/g, encodeURIComponent(id)));
      const withQueries = queries(route.schema).map((q) => urls[0] + q);
      const hasBody = !['GET', 'DELETE'].includes(route.method);
      const cases: Array<{ url: string; payload?: unknown; raw?: string; headers?: Record<string, string> }> = [
        ...urls.map((url) => ({ url })),
        ...withQueries.map((url) => ({ url })),
      ];
      if (hasBody) {
        for (const url of urls.slice(0, 2)) {
          cases.push({ url, raw: '{"oops":', headers: { 'content-type': 'application/json' } });
          cases.push({ url, raw: 'not json at all', headers: { 'content-type': 'application/json' } });
          for (const payload of wrongTypeBodies(route.schema)) cases.push({ url, payload });
        }
      }
      for (const c of cases) {
        for (const headers of [auth, {}]) {
          requests++;
          const res = await t.app.inject({
            method: route.method as 'GET',
            url: c.url,
            headers: { ...headers, ...c.headers },
            ...(c.raw !== undefined ? { payload: c.raw } : c.payload !== undefined ? { payload: c.payload as object } : {}),
          });
          const label = `${route.method} ${route.url} <- ${c.url.slice(0, 80)} ${JSON.stringify(c.payload ?? c.raw ?? '').slice(0, 60)}`;
          if (res.statusCode >= 500) failures.push(`${res.statusCode} ${label}: ${res.body.slice(0, 200)}`);
          else if (res.statusCode >= 400) {
            const body = res.json() as { error?: { code?: string } };
            if (typeof body.error?.code !== 'string') failures.push(`no error shape ${res.statusCode} ${label}`);
          }
        }
      }
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${requests} requests failed`);
    assert.equal((await t.app.inject({ url: '/health' })).statusCode, 200);
  });
});
