// Files on the embedded default (local disk, scanning off): uploads counted against
// the limit, nothing left behind on failure, exact bytes back, download headers and
// signed-URL checks, name cleaning, deletion, events.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signDownload } from '../src/adapters/storage/url-signing.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { countRows, ensureUsers, listen, makeCall, nothingLeft, sha256, storedKeys, upload, type TestCall } from './helpers/files.ts';

const LIMIT = 1024 * 1024;

let t: TestApp;
let base: string;
let call: TestCall;
let alice: string;
let dataDir: string;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-files-'));
  t = await startTestApp({ env: { DATA_DIR: dataDir, UPLOAD_MAX_BYTES: String(LIMIT), STORAGE_BACKEND: 'disk' } });
  base = await listen(t);
  alice = await t.token('alice');
  call = await makeCall(t, 'alice', ['bob']);
});
after(async () => {
  await t?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Signed URLs name PUBLIC_BASE_URL; the test server listens on a random port. */
const local = (url: string) => {
  const u = new URL(url);
  return `${base}${u.pathname}${u.search}`;
};

async function downloadUrl(token: string, fileId: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/files/${fileId}/download`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { url: string; expires_at: string };
  assert.ok(Date.parse(body.expires_at) > Date.now() + 3500_000, 'default TTL is one hour');
  return body.url;
}

async function deleteAll(): Promise<void> {
  const res = await fetch(`${base}/api/v1/files?call_id=${call.callId}&limit=100`, { headers: { authorization: `Bearer ${alice}` } });
  for (const f of ((await res.json()) as { files: Array<{ file_id: string }> }).files) {
    await fetch(`${base}/api/v1/files/${f.file_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } });
  }
}

describe('upload limits', () => {
  test('exactly the limit is accepted, with size, sha256 and scan_status skipped', async () => {
    const data = crypto.randomBytes(LIMIT);
    const res = await upload(base, alice, { callId: call.callId, data, fileName: 'max.bin' });
    assert.equal(res.status, 201, await res.clone().text());
    const f = (await res.json()) as Record<string, unknown>;
    assert.equal(f.file_size, LIMIT);
    assert.equal(f.sha256, sha256(data));
    assert.equal(f.scan_status, 'skipped');
    assert.equal(f.virus_scanned, false);
    assert.equal(f.access_level, 'call_participants');
    assert.equal(f.call_id, call.callId);
    assert.equal(f.room_name, call.roomName);
    assert.equal(f.uploader_id, t.userId('alice'));
    assert.equal((await storedKeys(t)).length, 1);
    await deleteAll();
    await nothingLeft(t);
  });

  test('one byte over the limit is 413 and leaves no row and no object', async () => {
    const res = await upload(base, alice, { callId: call.callId, data: crypto.randomBytes(LIMIT + 1) });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    await nothingLeft(t);
  });

  test('far over the limit, sent chunked with no Content-Length, is cut at the limit: 413, nothing kept', async () => {
    const boundary = 'xBOUNDARYx';
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on('error', reject);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n${call.callId}\r\n`);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * LIMIT) {
          sent += 64 * 1024;
          if (!req.write(crypto.randomBytes(64 * 1024))) return void req.once('drain', pump);
        }
        req.end(`\r\n--${boundary}--\r\n`);
      };
      pump();
    });
    assert.equal(status, 413);
    await nothingLeft(t);
  });

  test('a Content-Length that cannot fit is refused before the body is read', async () => {
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/files`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice}`,
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(10 * 1024 ** 3),
        },
      });
      req.on('response', (r) => {
        r.resume();
        resolve(r.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.write('--x\r\n');
    });
    assert.equal(status, 413);
    assert.ok(Date.now() - started < 5000);
    await nothingLeft(t);
  });

  test('a client that aborts mid-upload leaves nothing behind', async () => {
    const boundary = 'abortBoundary';
    await new Promise<void>((resolve) => {
      const req = http.request(`${base}/api/v1/files`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(LIMIT),
        },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n${call.callId}\r\n`);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`);
      req.write(crypto.randomBytes(300_000));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 150);
    });
    await new Promise((r) => setTimeout(r, 300));
    await nothingLeft(t);
  });
});

describe('downloads through the disk backend', () => {
  test('exact bytes back, with attachment, nosniff, ETag and Range', async () => {
    const data = crypto.randomBytes(200_000);
    const up = await upload(base, alice, { callId: call.callId, data, fileName: 'photo.png', type: 'image/png' });
    assert.equal(up.status, 201);
    const file = (await up.json()) as { file_id: string; sha256: string };
    const url = local(await downloadUrl(alice, file.file_id));
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="photo.png"; filename*=UTF-8''photo.png`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-length'), String(data.length));
    assert.equal(res.headers.get('etag'), `"${file.sha256}"`);
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);

    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${data.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(100, 200));
    const suffix = await fetch(url, { headers: { range: 'bytes=-10' } });
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), data.subarray(data.length - 10));
    const bad = await fetch(url, { headers: { range: `bytes=${data.length}-` } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), `bytes */${data.length}`);
    await bad.body?.cancel();
    const cached = await fetch(url, { headers: { 'if-none-match': `"${file.sha256}"` } });
    assert.equal(cached.status, 304);

    const redirect = await fetch(`${base}/api/v1/files/${file.file_id}/download?redirect=1`, {
      headers: { authorization: `Bearer ${alice}` },
      redirect: 'manual',
    });
    assert.equal(redirect.status, 302);
    assert.match(redirect.headers.get('location') ?? '', /\/api\/v1\/files\/[0-9a-f-]+\/content\?expires=\d+&sig=/);
  });

  test('tampered, foreign and expired signatures are refused', async () => {
    const up = await upload(base, alice, { callId: call.callId, data: Buffer.from('secret') });
    const file = (await up.json()) as { file_id: string };
    const other = (await (await upload(base, alice, { callId: call.callId, data: Buffer.from('x') })).json()) as { file_id: string };
    const url = new URL(local(await downloadUrl(alice, file.file_id)));
    const sig = url.searchParams.get('sig')!;
    const expires = url.searchParams.get('expires')!;
    const tries = [
      `${base}/api/v1/files/${file.file_id}/content?expires=${expires}&sig=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`,
      `${base}/api/v1/files/${file.file_id}/content?expires=${Number(expires) + 60}&sig=${sig}`,
      `${base}/api/v1/files/${other.file_id}/content?expires=${expires}&sig=${sig}`,
      `${base}/api/v1/files/${file.file_id}/content?expires=${expires}`,
      `${base}/api/v1/files/${file.file_id}/content`,
    ];
    for (const u of tries) {
      const res = await fetch(u);
      assert.equal(res.status, 403, u);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
    }
    const past = Math.floor(Date.now() / 1000) - 5;
    const expired = await fetch(
      `${base}/api/v1/files/${file.file_id}/content?expires=${past}&sig=${signDownload(t.config.storage.urlSigningSecret, file.file_id, past)}`,
    );
    assert.equal(expired.status, 403);
    assert.match(((await expired.json()) as { error: { message: string } }).error.message, /expired/);
  });

  test('quotes, CR/LF and ../ in the name are cleaned; markup is never served as itself', async () => {
    const up = await upload(base, alice, {
      callId: call.callId,
      data: Buffer.from('<!doctype html><script>alert(document.cookie)</script>'),
      fileName: '../../"evil"\r\nX-Injected: 1.html',
      type: 'text/plain',
    });
    assert.equal(up.status, 201);
    const file = (await up.json()) as { file_id: string; file_name: string; file_type: string; detected_type: string };
    assert.equal(file.file_type, 'text/plain');
    assert.equal(file.detected_type, 'text/html');
    assert.doesNotMatch(file.file_name, /[\r\n/\\"]/);
    assert.equal(file.file_name, '_evil_X-Injected_ 1.html');
    const res = await fetch(local(await downloadUrl(alice, file.file_id)));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.match(res.headers.get('content-disposition')!, /^attachment; filename="_evil_X-Injected_ 1\.html"; filename\*=UTF-8''/);
    assert.equal(res.headers.get('x-injected'), null);
    await res.body?.cancel();

    // Built by hand: escaped quotes and Windows separators, and the browser-style
    // percent escapes of CR/LF, which the route decodes and the cleaner then strips.
    const boundary = 'nameBoundary';
    const raw = (disposition: string) =>
      fetch(`${base}/api/v1/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body:
          `--${boundary}\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n${call.callId}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\n\r\nhello\r\n--${boundary}--\r\n`,
      });
    const escaped = await raw(`filename="%22evil%22%0D%0AX-Injected: 1.html"`);
    assert.equal(escaped.status, 201, await escaped.clone().text());
    assert.equal(((await escaped.json()) as { file_name: string }).file_name, '_evil_X-Injected_ 1.html');
    const quoted = await raw(`filename="..\\..\\say \\"hi\\".txt"`);
    assert.equal(quoted.status, 201, await quoted.clone().text());
    assert.equal(((await quoted.json()) as { file_name: string }).file_name, 'say _hi_.txt');

    const svg = await upload(base, alice, { callId: call.callId, data: Buffer.from('<svg onload="alert(1)"/>'), fileName: 'a.svg', type: 'image/svg+xml' });
    const svgFile = (await svg.json()) as { file_id: string };
    const svgRes = await fetch(local(await downloadUrl(alice, svgFile.file_id)));
    assert.equal(svgRes.headers.get('content-type'), 'application/octet-stream');
    assert.match(svgRes.headers.get('content-disposition')!, /^attachment;/);
    await svgRes.body?.cancel();
  });

  test('non-ASCII names get an ASCII fallback and an exact filename*', async () => {
    const up = await upload(base, alice, { callId: call.callId, data: Buffer.from('x'), fileName: 'Résumé 日本.txt' });
    const file = (await up.json()) as { file_id: string; file_name: string };
    assert.equal(file.file_name, 'Résumé 日本.txt');
    const res = await fetch(local(await downloadUrl(alice, file.file_id)));
    assert.equal(
      res.headers.get('content-disposition'),
      `attachment; filename="Resume __.txt"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.txt`,
    );
    await res.body?.cancel();
  });
});

describe('upload rules', () => {
  test('fields after the file, room_name instead of call_id, access level and expiry', async () => {
    const res = await upload(base, alice, {
      roomName: call.roomName,
      data: Buffer.from('%PDF-1.4 hello'),
      fileName: 'doc.pdf',
      type: 'application/pdf',
      accessLevel: 'private',
      expiresInSeconds: 3600,
      fileFirst: true,
    });
    assert.equal(res.status, 201, await res.clone().text());
    const f = (await res.json()) as { access_level: string; expires_at: string; detected_type: string; call_id: string };
    assert.equal(f.access_level, 'private');
    assert.equal(f.detected_type, 'application/pdf');
    assert.equal(f.call_id, call.callId);
    assert.ok(Math.abs(Date.parse(f.expires_at) - Date.now() - 3600_000) < 60_000);
  });

  test('bad input is 4xx, never 500, and stores nothing', async () => {
    const before = await storedKeys(t);
    const cases: Array<[Parameters<typeof upload>[2], number]> = [
      [{ data: Buffer.from('x') }, 400],
      [{ callId: call.callId, roomName: call.roomName, data: Buffer.from('x') }, 400],
      [{ callId: 'not-a-uuid', data: Buffer.from('x') }, 400],
      [{ callId: call.callId, accessLevel: 'everyone', data: Buffer.from('x') }, 400],
      [{ callId: call.callId, expiresInSeconds: 0, data: Buffer.from('x') }, 400],
      [{ callId: call.callId, accessLevel: 'everyone', data: Buffer.from('x'), fileFirst: true }, 400],
      [{ callId: crypto.randomUUID(), data: Buffer.from('x') }, 404],
      [{ callId: crypto.randomUUID(), data: Buffer.from('x'), fileFirst: true }, 404],
    ];
    for (const [input, status] of cases) {
      const res = await upload(base, alice, input);
      assert.equal(res.status, status, JSON.stringify({ ...input, data: undefined }));
    }
    const noFile = new FormData();
    noFile.append('call_id', call.callId);
    const r1 = await fetch(`${base}/api/v1/files`, { method: 'POST', body: noFile, headers: { authorization: `Bearer ${alice}` } });
    assert.equal(r1.status, 400);
    const json = await fetch(`${base}/api/v1/files`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    });
    assert.equal(json.status, 415);
    const anon = await upload(base, null, { callId: call.callId, data: crypto.randomBytes(100_000) });
    assert.equal(anon.status, 401);
    assert.deepEqual(await storedKeys(t), before);
  });

  test('only participants upload; file_sharing_enabled=false is 403', async () => {
    await ensureUsers(t, 'mallory');
    const stranger = await upload(base, await t.token('mallory'), { callId: call.callId, data: Buffer.from('x') });
    assert.equal(stranger.status, 404, 'a private call the stranger cannot see');
    const pub = await makeCall(t, 'alice', [], { privacy: 'public' });
    const outsider = await upload(base, await t.token('mallory'), { callId: pub.callId, data: Buffer.from('x') });
    assert.equal(outsider.status, 403, 'a public call is visible, but only participants share files');
    const participant = await upload(base, await t.token('bob'), { callId: call.callId, data: Buffer.from('x') });
    assert.equal(participant.status, 201);
    const off = await makeCall(t, 'alice', ['bob'], { fileSharing: false });
    const before = await storedKeys(t);
    for (const fileFirst of [false, true]) {
      const res = await upload(base, await t.token('bob'), { callId: off.callId, data: Buffer.from('x'), fileFirst });
      assert.equal(res.status, 403);
    }
    assert.deepEqual(await storedKeys(t), before);
  });
});

describe('delete and events', () => {
  test('delete removes row and object, publishes file.deleted; file.shared was published', async () => {
    const up = await upload(base, alice, { callId: call.callId, data: Buffer.from('to delete'), accessLevel: 'private' });
    const file = (await up.json()) as { file_id: string };
    assert.equal((await storedKeys(t)).filter((k) => k.endsWith(file.file_id)).length, 1);
    const del = await fetch(`${base}/api/v1/files/${file.file_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } });
    assert.equal(del.status, 204);
    assert.deepEqual((await storedKeys(t)).filter((k) => k.endsWith(file.file_id)), []);
    assert.equal(await countRows(t, 'storage_deletions'), 0);
    const get = await fetch(`${base}/api/v1/files/${file.file_id}`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(get.status, 404);
    const events = await t.ctx.db.privileged(async (sql) =>
      (await sql.query<{ type: string; audience_user_id: string | null }>(
        `SELECT type, audience_user_id FROM call_events WHERE payload->>'file_id' = $1 OR payload->'file'->>'file_id' = $1 ORDER BY event_id`,
        [file.file_id],
      )).rows,
    );
    assert.deepEqual(events, [
      { type: 'file.shared', audience_user_id: t.userId('alice') },
      { type: 'file.deleted', audience_user_id: t.userId('alice') },
    ]);
  });

  test('when storage refuses the delete, the row goes and the object is queued for retry', async () => {
    const up = await upload(base, alice, { callId: call.callId, data: Buffer.from('sticky') });
    const file = (await up.json()) as { file_id: string };
    const storage = t.ctx.storage;
    const original = storage.delete.bind(storage);
    storage.delete = async () => {
      throw new Error('storage says no');
    };
    try {
      // This process's app: its storage adapter is the one patched here.
      const del = await t.local.inject({ method: 'DELETE', url: `/api/v1/files/${file.file_id}`, headers: { authorization: `Bearer ${alice}` } });
      assert.equal(del.statusCode, 204);
    } finally {
      storage.delete = original;
    }
    assert.equal((await storedKeys(t)).filter((k) => k.endsWith(file.file_id)).length, 1, 'object still there');
    assert.equal(await countRows(t, 'storage_deletions'), 1, 'queued for retry');
    const { runFileCleanup } = await import('../src/jobs/file-cleanup.ts');
    await t.ctx.db.privileged((sql) => sql.query('UPDATE storage_deletions SET next_attempt_at = now()'));
    await runFileCleanup(t.ctx);
    assert.deepEqual((await storedKeys(t)).filter((k) => k.endsWith(file.file_id)), []);
    assert.equal(await countRows(t, 'storage_deletions'), 0);
  });
});
