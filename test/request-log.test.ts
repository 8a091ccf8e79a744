// The one log line per request (src/http/metrics.ts): its fields in the order the
// request's own child logger wrote them, and the root logger's redaction untouched.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('request log line', () => {
  let t: TestApp;
  const logs: Array<Record<string, unknown>> = [];
  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    t = await startTestApp({ logger: pino({ level: 'info', redact: { paths: ['*.password', '*.token'], remove: true } }, sink) });
  });
  after(() => t?.close());

  it('is one line with the request id, method, url, status and time, as before', async () => {
    const res = await t.app.inject({ url: '/liveness?x=1', headers: { 'x-request-id': 'req-log-1' } });
    assert.equal(res.statusCode, 200);
    const lines = logs.filter((l) => l.reqId === 'req-log-1');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.deepEqual(Object.keys(line), ['level', 'time', 'pid', 'hostname', 'reqId', 'method', 'url', 'status', 'ms', 'msg']);
    assert.deepEqual({ ...line, time: 0, pid: 0, hostname: '', ms: 0 },
      { level: 30, time: 0, pid: 0, hostname: '', reqId: 'req-log-1', method: 'GET', url: '/liveness?x=1', status: 200, ms: 0, msg: 'request' });
    assert.equal(typeof line.ms, 'number');
  });

  it("leaves the app logger's wildcard redaction in force elsewhere", () => {
    t.app.log.info({ body: { password: 'p', token: 't', keep: 1 } }, 'redaction probe');
    const probe = logs.find((l) => l.msg === 'redaction probe')!;
    assert.deepEqual(probe.body, { keep: 1 });
  });
});
