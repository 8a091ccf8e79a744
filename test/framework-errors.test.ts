// Every response of 400 or more is JSON {"error":{code,message}} with an x-request-id,
// whatever produced it: Node's HTTP parser, Fastify's router, the CORS plugin, the
// multipart parser. The malformed requests go over raw sockets (fetch refuses to send
// them) to a listening server on the real database; aborts are read from the logs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { countRows, listen, makeCall, nothingLeft, storedKeys, type TestCall } from './helpers/files.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let t: TestApp;
let port: number;
let alice: string;
let call: TestCall;
let dataDir: string;
const logs: Array<Record<string, unknown>> = [];

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-framework-errors-'));
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  t = await startTestApp({
    env: { DATA_DIR: dataDir, STORAGE_BACKEND: 'disk', CORS_ORIGINS: 'https://app.example' },
    logger: pino({ level: 'debug' }, sink),
  });
  port = Number(new URL(await listen(t)).port);
  alice = await t.token('alice');
  call = await makeCall(t, 'alice');
});
after(async () => {
  await t?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Writes `data` as is and reads the first response until the server closes the connection. */
function send(data: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on('data', (c) => chunks.push(c));
    // The server may close while a large request is still being written; what it
    // answered before that is what counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const length = Number(headers['content-length'] ?? 0);
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length) });
    });
    socket.write(data);
  });
}

function assertContract(res: RawResponse, status: number, code: string): { code: string; message: string } {
  assert.equal(res.status, status, res.body);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.match(res.headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]{1,128}$/);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  return body.error;
}

const CLOSE = 'Host: test\r\nConnection: close\r\n';

describe('errors from Node and the router', () => {
  it('bad percent-encoding in the path is 400', async () => {
    assertContract(await send(`GET /api/v1/files/%E0%A4%A HTTP/1.1\r\n${CLOSE}\r\n`), 400, 'VALIDATION_ERROR');
  });

  it('an over-long path parameter is 414', async () => {
    const res = await send(`DELETE /api/v1/files/${'a'.repeat(300)} HTTP/1.1\r\n${CLOSE}\r\n`);
    const error = assertContract(res, 414, 'URI_TOO_LONG');
    assert.ok(error.message.length < 100, 'the path is not echoed back');
  });

  it('a 20 KB header and a 100 KB URL are 431', async () => {
    assertContract(await send(`GET /health HTTP/1.1\r\n${CLOSE}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'HEADERS_TOO_LARGE');
    assertContract(await send(`GET /health?q=${'a'.repeat(100_000)} HTTP/1.1\r\n${CLOSE}\r\n`), 431, 'HEADERS_TOO_LARGE');
  });

  it('bad framing is 400', async () => {
    const both = `POST /api/v1/users/me HTTP/1.1\r\n${CLOSE}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`;
    assertContract(await send(both), 400, 'VALIDATION_ERROR');
    const notANumber = `PUT /api/v1/users/me HTTP/1.1\r\n${CLOSE}Content-Length: abc\r\n\r\n`;
    assertContract(await send(notANumber), 400, 'VALIDATION_ERROR');
    const badChunk = `PUT /api/v1/users/me HTTP/1.1\r\n${CLOSE}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`;
    assertContract(await send(badChunk), 400, 'VALIDATION_ERROR');
  });

  it('an unknown method is 400; a known one without a route is 405 with Allow; CONNECT is 405', async () => {
    assertContract(await send(`FOO /health HTTP/1.1\r\n${CLOSE}\r\n`), 400, 'VALIDATION_ERROR');
    const propfind = await send(`PROPFIND /health HTTP/1.1\r\n${CLOSE}\r\n`);
    assertContract(propfind, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(propfind.headers.allow, 'GET, HEAD');
    assertContract(await send(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`), 405, 'METHOD_NOT_ALLOWED');
  });

  it('HTTP/1.1 without Host is 400; HTTP/1.0 may omit it', async () => {
    assertContract(await send('GET /health HTTP/1.1\r\nConnection: close\r\n\r\n'), 400, 'VALIDATION_ERROR');
    const old = await send('GET /health HTTP/1.0\r\n\r\n');
    assert.equal(old.status, 200);
  });

  it('a wrong method on a known path is 405 with Allow, an unknown path 404, HEAD alike without a body', async () => {
    const wrong = await send(`DELETE /api/v1/users/me HTTP/1.1\r\n${CLOSE}\r\n`);
    assertContract(wrong, 405, 'METHOD_NOT_ALLOWED');
    assert.deepEqual(wrong.headers.allow!.split(', '), ['GET', 'HEAD', 'PUT']);
    const param = await send(`PATCH /api/v1/files/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\n${CLOSE}\r\n`);
    assertContract(param, 405, 'METHOD_NOT_ALLOWED');
    assert.deepEqual(param.headers.allow!.split(', '), ['DELETE', 'GET', 'HEAD']);
    assertContract(await send(`POST /api/v1/nope HTTP/1.1\r\n${CLOSE}Content-Length: 0\r\n\r\n`), 404, 'NOT_FOUND');
    // A trailing slash is another path (ignoreTrailingSlash is off): 404, not 405.
    assertContract(await send(`GET /health/ HTTP/1.1\r\n${CLOSE}\r\n`), 404, 'NOT_FOUND');

    const head = await send(`HEAD /api/v1/nope HTTP/1.1\r\n${CLOSE}\r\n`);
    assert.equal(head.status, 404);
    assert.match(head.headers['content-type'] ?? '', /^application\/json/);
    assert.ok(head.headers['x-request-id']);
    assert.equal(head.body, '');
    assert.equal((await send(`HEAD /health HTTP/1.1\r\n${CLOSE}\r\n`)).status, 200);
  });
});

describe('CORS preflight failures', () => {
  const preflight = (headers: string) => send(`OPTIONS /api/v1/users/me HTTP/1.1\r\n${CLOSE}${headers}\r\n`);

  it('a preflight without Access-Control-Request-Method, or a bare OPTIONS, is a JSON 400', async () => {
    assertContract(await preflight('Origin: https://app.example\r\n'), 400, 'VALIDATION_ERROR');
    assertContract(await preflight(''), 400, 'VALIDATION_ERROR');
  });

  it("a disallowed origin's preflight is a JSON 403; an allowed one passes", async () => {
    const evil = await preflight('Origin: https://evil.example\r\nAccess-Control-Request-Method: PUT\r\n');
    assertContract(evil, 403, 'FORBIDDEN');
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const ok = await preflight('Origin: https://app.example\r\nAccess-Control-Request-Method: PUT\r\n');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
  });
});

describe('the Bearer scheme', () => {
  it('is matched case-insensitively (RFC 7235)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const res = await send(`GET /api/v1/users/me HTTP/1.1\r\n${CLOSE}Authorization: ${scheme} ${alice}\r\n\r\n`);
      assert.equal(res.status, 200, `${scheme}: ${res.body}`);
    }
    const basic = await send(`GET /api/v1/users/me HTTP/1.1\r\n${CLOSE}Authorization: Basic ${alice}\r\n\r\n`);
    assertContract(basic, 401, 'UNAUTHORIZED');
  });
});

describe('malformed multipart bodies on POST /files', () => {
  const part = (name: string, value: string, file?: string) =>
    `--XYZ\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"\r\nContent-Type: text/plain` : ''}\r\n\r\n${value}\r\n`;
  const form = () => `${part('call_id', call.callId)}${part('file', 'hello world', 'a.txt')}--XYZ--\r\n`;
  const post = (contentType: string, body: string) =>
    send(
      `POST /api/v1/files HTTP/1.1\r\n${CLOSE}Authorization: Bearer ${alice}\r\nContent-Type: ${contentType}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );

  it('no boundary is 400 and leaves nothing behind', async () => {
    const error = assertContract(await post('multipart/form-data', form()), 400, 'VALIDATION_ERROR');
    assert.match(error.message, /boundary/i);
    await nothingLeft(t);
  });

  it('a boundary that does not match the body is 400 and leaves nothing behind', async () => {
    const error = assertContract(await post('multipart/form-data; boundary=OTHER', form()), 400, 'VALIDATION_ERROR');
    assert.match(error.message, /multipart/i);
    await nothingLeft(t);
  });

  it('a body truncated in a field or in the file is 400 and leaves nothing behind', async () => {
    const body = form();
    const inField = body.slice(0, body.indexOf(call.callId) + 10);
    assertContract(await post('multipart/form-data; boundary=XYZ', inField), 400, 'VALIDATION_ERROR');
    await nothingLeft(t);
    const inFile = body.slice(0, body.indexOf('hello world') + 5);
    assertContract(await post('multipart/form-data; boundary=XYZ', inFile), 400, 'VALIDATION_ERROR');
    await nothingLeft(t);
    // Truncated after the file's closing boundary: the file was stored, then refused.
    const afterFile = body.slice(0, body.lastIndexOf('--XYZ--'));
    assertContract(await post('multipart/form-data; boundary=XYZ', afterFile), 400, 'VALIDATION_ERROR');
    await nothingLeft(t);
  });

  it('the same body, well formed, is stored (so the cases above fail for their malformation)', async () => {
    const res = await post('multipart/form-data; boundary=XYZ', form());
    assert.equal(res.status, 201, res.body);
    assert.equal((await storedKeys(t)).length, 1);
  });
});

describe('a client that aborts mid-body', () => {
  /** Sends the head and part of the body, then closes; returns the request's log lines. */
  async function abort(head: string, partialBody: string): Promise<Array<Record<string, unknown>>> {
    const from = logs.length;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(head + partialBody);
    // Let the server start reading the body before the client goes away.
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    for (let i = 0; i < 100 && !logs.slice(from).some((l) => l.msg === 'client aborted the request'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return logs.slice(from);
  }

  function assertLoggedAsAbort(lines: Array<Record<string, unknown>>) {
    const aborted = lines.find((l) => l.msg === 'client aborted the request');
    assert.ok(aborted, `no abort line in ${JSON.stringify(lines.map((l) => l.msg))}`);
    assert.ok((aborted.level as number) <= 40, 'info or warn');
    assert.ok(aborted.reqId, 'carries the request id');
    assert.ok(!lines.some((l) => /database is unavailable/i.test(String(l.msg))), 'not a database outage');
    assert.ok(!lines.some((l) => (l.level as number) >= 50), 'no error lines');
  }

  it('a JSON body is logged as a client abort, not as a database outage', async () => {
    const head = `PUT /api/v1/users/me HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${alice}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    assertLoggedAsAbort(await abort(head, '{"display_name":'));
  });

  it('a multipart upload, in a field or in the file, is logged as a client abort and leaves nothing behind', async () => {
    const head = `POST /api/v1/files HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${alice}\r\nContent-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 100000\r\n\r\n`;
    const fields = `--XYZ\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n${call.callId}\r\n`;
    assertLoggedAsAbort(await abort(head, fields.slice(0, 70)));
    const file = `--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const left = async () => [(await storedKeys(t)).length, await countRows(t, 'file_uploads'), await countRows(t, 'files')];
    const before = await left();
    assertLoggedAsAbort(await abort(head, fields + file + 'x'.repeat(4096)));
    // The half-written object and its upload record go once the failure is handled.
    for (let i = 0; i < 100 && JSON.stringify(await left()) !== JSON.stringify(before); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await left(), before);
  });
});
