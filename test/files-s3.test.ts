// Files on S3 (a real MinIO): exact bytes through a presigned URL that forces an
// attachment, and storage failing before or during an upload: 503, nothing kept.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { S3Storage } from '../src/adapters/storage/s3.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { countRows, listen, makeCall, sha256, storedKeys, upload, type TestCall } from './helpers/files.ts';
import { serviceSkip, tcpReachable, urlHostPort } from './helpers/services.ts';

const endpoint = process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:19000';
const { host: s3Host, port: s3Port } = urlHostPort(endpoint, 80);
const skip = await serviceSkip('MinIO', await tcpReachable(s3Host, s3Port), endpoint);
const bucket = `auralink-files-${crypto.randomBytes(4).toString('hex')}`;

function s3Env(endpointUrl: string): Record<string, string> {
  return {
    STORAGE_BACKEND: 's3',
    S3_ENDPOINT: endpointUrl,
    S3_ACCESS_KEY_ID: process.env.TEST_S3_ACCESS_KEY ?? 'auralinktest',
    S3_SECRET_ACCESS_KEY: process.env.TEST_S3_SECRET_KEY ?? 'auralink-test-minio-secret-0123',
    S3_REGION: process.env.TEST_S3_REGION ?? 'us-east-1',
    STORAGE_BUCKET: bucket,
    UPLOAD_MAX_BYTES: String(32 * 1024 * 1024),
  };
}

/** A TCP proxy in front of MinIO that can be cut: every connection dies, new ones are refused. */
async function cuttableProxy(afterBytes: number) {
  const sockets = new Set<net.Socket>();
  let forwarded = 0;
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(s3Port, s3Host);
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => {
      forwarded += d.length;
      if (forwarded > afterBytes) return cutAll();
      upstream.write(d);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  const cutAll = () => {
    cut = true;
    for (const s of sockets) s.destroy();
    server.close();
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get cut() {
      return cut;
    },
    close: cutAll,
  };
}

describe('files on S3 (MinIO)', { skip }, () => {
  let t: TestApp;
  let base: string;
  let call: TestCall;
  before(async () => {
    t = await startTestApp({ env: s3Env(endpoint) });
    await (t.ctx.storage as S3Storage).ensureBucket();
    base = await listen(t);
    call = await makeCall(t, 'alice', ['bob']);
  });
  after(() => t?.close());

  test('exact bytes back through a presigned URL that forces an attachment', async () => {
    const data = crypto.randomBytes(9 * 1024 * 1024 + 7); // more than one multipart part
    const up = await upload(base, await t.token('bob'), {
      callId: call.callId,
      data,
      fileName: 'Übersicht "Q3".html',
      type: 'text/html',
    });
    assert.equal(up.status, 201, await up.clone().text());
    const file = (await up.json()) as { file_id: string; sha256: string; file_size: number };
    assert.equal(file.sha256, sha256(data));
    assert.equal(file.file_size, data.length);
    const dl = await fetch(`${base}/api/v1/files/${file.file_id}/download`, { headers: await t.auth('alice') });
    assert.equal(dl.status, 200);
    const { url } = (await dl.json()) as { url: string };
    assert.equal(new URL(url).searchParams.get('X-Amz-Expires'), '3600');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), file.sha256);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream', 'HTML is never served as HTML');
    assert.equal(
      res.headers.get('content-disposition'),
      `attachment; filename="Ubersicht _Q3_.html"; filename*=UTF-8''%C3%9Cbersicht%20_Q3_.html`,
    );
    // A presigned URL is bound to its parameters: changing the disposition breaks it.
    const tampered = new URL(url);
    tampered.searchParams.set('response-content-disposition', 'inline');
    assert.equal((await fetch(tampered)).status, 403);
  });

  test('storage unreachable (closed port): 503 and nothing written', async () => {
    const down = await startTestApp({ env: { ...s3Env('http://127.0.0.1:1') }, database: t.database });
    try {
      const downBase = await listen(down);
      const rowsBefore = await countRows(t, 'files');
      const res = await upload(downBase, await down.token('alice'), { callId: call.callId, data: crypto.randomBytes(50_000) });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UPSTREAM_UNAVAILABLE');
      assert.equal(await countRows(t, 'files'), rowsBefore);
    } finally {
      await down.app.close();
      await down.ctx.close();
    }
  });

  test('storage cut mid-upload: 503, no object, no row', async () => {
    const proxy = await cuttableProxy(3 * 1024 * 1024);
    const mid = await startTestApp({ env: s3Env(proxy.url), database: t.database });
    try {
      const midBase = await listen(mid);
      const keysBefore = await storedKeys(t);
      const rowsBefore = await countRows(t, 'files');
      const res = await upload(midBase, await mid.token('alice'), { callId: call.callId, data: crypto.randomBytes(20 * 1024 * 1024) });
      assert.equal(proxy.cut, true, 'the proxy was cut during the upload');
      assert.equal(res.status, 503, await res.clone().text());
      assert.deepEqual(await storedKeys(t), keysBefore);
      assert.equal(await countRows(t, 'files'), rowsBefore);
    } finally {
      proxy.close();
      await mid.app.close();
      await mid.ctx.close();
    }
  });
});
