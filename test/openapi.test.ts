// The OpenAPI document is complete enough to generate a client from, docs/API.md covers
// every operation in it, and `npm run client:check` catches a client left stale.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate } from '../scripts/generate-client.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

interface Op {
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, unknown>>;
  requestBody?: { required?: boolean; content: Record<string, { schema: Record<string, any> }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: Record<string, any> }> }>;
}
type Doc = { paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, unknown> } };

const root = path.resolve(import.meta.dirname, '..');
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: Doc;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.entries(item)
        .filter(([m]) => METHODS.has(m))
        .map(([m, op]) => ({ id: `${m.toUpperCase()} ${p}`, method: m, path: p, op })),
    );

  before(async () => {
    t = await startTestApp();
    doc = (await t.app.inject({ url: '/openapi.json' })).json();
  });
  after(() => t?.close());

  it('gives every operation a summary, tags and the shared error schema', () => {
    assert.ok(operations().length > 40, 'the whole API is documented');
    assert.ok(doc.components.schemas.ErrorResponse, 'the error schema is a named component');
    for (const { id, op } of operations()) {
      assert.ok(op.summary && op.summary.length > 5, `${id} has a summary`);
      assert.ok(op.tags?.length, `${id} has tags`);
      for (const [status, r] of Object.entries(op.responses)) {
        assert.notEqual(r.description, 'Default Response', `${id} ${status} says what it is`);
        if (Number(status) < 400 || id === 'GET /readiness') continue;
        assert.equal(r.content?.['application/json']?.schema.$ref, '#/components/schemas/ErrorResponse', `${id} ${status}`);
      }
      const bearerOnly = op.security?.length === 1 && 'bearerAuth' in op.security[0]!;
      if (bearerOnly) assert.ok(op.responses['401'], `${id} documents 401`);
    }
  });

  it('documents the multipart upload, the event stream, downloads and optional bodies', () => {
    const upload = doc.paths['/api/v1/files']!.post!.requestBody!;
    const form = upload.content['multipart/form-data']!.schema;
    assert.deepEqual(Object.keys(upload.content), ['multipart/form-data']);
    assert.equal(form.properties.file.format, 'binary');
    assert.deepEqual(form.required, ['file']);
    for (const f of ['call_id', 'room_name', 'access_level', 'expires_in_seconds']) assert.ok(form.properties[f], f);

    const events = doc.paths['/api/v1/events']!.get!.responses['200']!;
    assert.deepEqual(Object.keys(events.content!), ['text/event-stream']);
    const content = doc.paths['/api/v1/files/{file_id}/content']!.get!.responses;
    assert.equal(content['200']!.content!['application/octet-stream']!.schema.format, 'binary');
    assert.ok(content['206'] && content['304'] && content['416']);

    assert.equal(doc.paths['/api/v1/rooms/{room_id}/token']!.post!.requestBody!.required, false);
    assert.equal(doc.paths['/api/v1/rooms']!.post!.requestBody!.required, true);
    assert.ok(!JSON.stringify(doc).includes('x-optional-body'), 'the internal mark does not leak');
  });

  it('describes /health, /liveness and /readiness as they answer', async () => {
    for (const p of ['/health', '/liveness']) {
      const schema = doc.paths[p]!.get!.responses['200']!.content!['application/json']!.schema;
      assert.deepEqual(schema.required, ['status'], p);
    }
    const ready = doc.paths['/readiness']!.get!.responses;
    for (const status of ['200', '503']) {
      const schema = ready[status]!.content!['application/json']!.schema;
      assert.deepEqual(schema.properties.status.anyOf.map((s: { const?: string; enum?: string[] }) => s.const ?? s.enum?.[0]), [
        'ok',
        'degraded',
        'down',
      ]);
      const check = schema.properties.checks.additionalProperties;
      for (const k of ['status', 'latency_ms', 'message', 'required']) assert.ok(check.properties[k], `${status} check.${k}`);
    }
    // The serializer keeps every field the probes report (the schema must not strip them).
    const res = await t.app.inject({ url: '/readiness' });
    const body = res.json();
    assert.equal(body.checks.database.status, 'ok');
    assert.equal(body.checks.database.required, true);
    assert.equal(typeof body.checks.database.latency_ms, 'number');
    assert.equal(body.checks.livekit.message, 'LIVEKIT_URL is not set');
  });

  it('is covered by docs/API.md: every method and path appears there', () => {
    const text = fs.readFileSync(path.join(root, 'docs/API.md'), 'utf8');
    const missing = operations()
      .map(({ method, path: p }) => `${method.toUpperCase()} ${p.replace(/^\/api\/v1(?=\/)/, '')}`)
      .filter((needle) => !text.includes(needle));
    assert.deepEqual(missing, [], 'operations in /openapi.json that docs/API.md does not mention');
  });
});

describe('client:check', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-check-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = (...args: string[]) =>
    spawnSync(process.execPath, ['scripts/check-client.mjs', ...args], { cwd: root, encoding: 'utf8' });

  it('passes on a freshly generated client and fails on a stale one', { timeout: 300_000 }, async () => {
    // Generating takes a while (an app on an in-memory PGlite): once, then the check
    // compares copies against it with --generated.
    const fresh = path.join(dir, 'fresh');
    await generate(fresh);
    const copy = path.join(dir, 'copy');
    fs.cpSync(fresh, copy, { recursive: true });
    const ok = check('--generated', fresh, '--client-dir', copy);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /up to date/);

    const stale = path.join(dir, 'stale');
    fs.cpSync(fresh, stale, { recursive: true });
    const schema = path.join(stale, 'src/schema.ts');
    fs.writeFileSync(schema, fs.readFileSync(schema, 'utf8').replace('"/api/v1/rooms"', '"/api/v1/rooms-old"'));
    const failed = check('--generated', fresh, '--client-dir', stale);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /src\/schema\.ts/);
    assert.match(failed.stderr, /npm run client:generate/);

    fs.rmSync(path.join(stale, 'openapi.json'));
    assert.equal(check('--generated', fresh, '--client-dir', stale).status, 1, 'a missing file is stale too');
  });
});
