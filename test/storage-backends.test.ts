// One suite, two backends: local disk and a real S3 server (MinIO). Anything the
// service relies on from a backend is asserted here for both.
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { DiskStorage } from '../src/adapters/storage/disk.ts';
import { StorageLimitError, StorageNotFoundError, StorageUnavailableError, type StorageBackend } from '../src/adapters/storage/index.ts';
import { S3Storage } from '../src/adapters/storage/s3.ts';
import { serviceSkip, tcpReachable, testS3Endpoint, testS3Settings, urlHostPort } from './helpers/services.ts';

const s3Endpoint = testS3Endpoint;
const s3 = urlHostPort(s3Endpoint, 80);
const s3Skip = await serviceSkip('MinIO', await tcpReachable(s3.host, s3.port), s3Endpoint);
const s3Settings = testS3Settings;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-storage-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const backends: Array<{ name: string; skip: string | false; make: () => Promise<StorageBackend> }> = [
  {
    name: 'disk',
    skip: false,
    make: async () =>
      new DiskStorage({ root: path.join(tmpRoot, 'files'), publicBaseUrl: 'http://x.test', signingSecret: 's'.repeat(32) }),
  },
  {
    name: 's3 (MinIO)',
    skip: s3Skip,
    make: async () => {
      const s = new S3Storage(s3Settings(`auralink-backends-${crypto.randomBytes(4).toString('hex')}`));
      await s.ensureBucket();
      return s;
    },
  },
];

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of n random-ish bytes produced in chunks, never held whole. */
function generated(n: number, chunk = 64 * 1024): { stream: Readable; hash: () => string } {
  const h = crypto.createHash('sha256');
  let left = n;
  const stream = new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const b = crypto.randomBytes(Math.min(chunk, left));
      left -= b.length;
      h.update(b);
      this.push(b);
    },
  });
  return { stream, hash: () => h.digest('hex') };
}

for (const b of backends) {
  describe(`storage backend: ${b.name}`, { skip: b.skip }, () => {
    let store: StorageBackend;
    test('setup', async () => {
      store = await b.make();
      await store.check();
    });

    test('put then get returns the exact bytes, and observe sees them all', async () => {
      const data = crypto.randomBytes(300_000);
      const seen = crypto.createHash('sha256');
      const res = await store.put(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), 'files/t/exact', {
        contentType: 'application/octet-stream',
        maxBytes: 1_000_000,
        observe: (c) => seen.update(c),
      });
      assert.equal(res.size, data.length);
      assert.equal(seen.digest('hex'), crypto.createHash('sha256').update(data).digest('hex'));
      const got = await store.get('files/t/exact');
      assert.equal(got.size, data.length);
      assert.deepEqual(await readAll(got.body), data);
      assert.deepEqual(await store.stat('files/t/exact'), { size: data.length });
    });

    test('multipart-sized object (> one part) round-trips', async () => {
      const n = 17 * 1024 * 1024 + 123;
      const g = generated(n);
      const res = await store.put(g.stream, 'files/t/big', { contentType: 'application/octet-stream', maxBytes: n });
      assert.equal(res.size, n);
      const back = crypto.createHash('sha256');
      for await (const c of (await store.get('files/t/big')).body) back.update(c as Buffer);
      assert.equal(back.digest('hex'), g.hash());
      await store.delete('files/t/big');
    });

    test('range reads return the inclusive slice', async () => {
      const data = Buffer.from('0123456789abcdef');
      await store.put(Readable.from([data]), 'files/t/range', { contentType: 'text/plain', maxBytes: 100 });
      const got = await store.get('files/t/range', { start: 3, end: 6 });
      assert.equal(got.size, 4);
      assert.equal((await readAll(got.body)).toString(), '3456');
    });

    test('exactly the limit passes; one byte over fails and leaves no object', async () => {
      await store.put(Readable.from([Buffer.alloc(1000, 1)]), 'files/t/at-limit', { contentType: 'x/y', maxBytes: 1000 });
      assert.equal(await store.exists('files/t/at-limit'), true);
      const big = generated(12 * 1024 * 1024);
      await assert.rejects(
        store.put(big.stream, 'files/t/over', { contentType: 'x/y', maxBytes: 10 * 1024 * 1024 }),
        StorageLimitError,
      );
      assert.equal(await store.exists('files/t/over'), false);
      const small = Readable.from([Buffer.alloc(1001, 1)]);
      await assert.rejects(store.put(small, 'files/t/over2', { contentType: 'x/y', maxBytes: 1000 }), StorageLimitError);
      assert.equal(await store.exists('files/t/over2'), false);
    });

    test('a source that fails mid-stream leaves no object and reports the source error', async () => {
      let sent = 0;
      const failing = new Readable({
        read() {
          if (sent >= 9 * 1024 * 1024) return void this.destroy(new Error('client went away'));
          sent += 1024 * 1024;
          this.push(crypto.randomBytes(1024 * 1024));
        },
      });
      await assert.rejects(store.put(failing, 'files/t/broken', { contentType: 'x/y', maxBytes: 50e6 }), /client went away/);
      assert.equal(await store.exists('files/t/broken'), false);
      const leftovers = [];
      for await (const o of store.list('files/t/')) if (o.key.startsWith('files/t/broken')) leftovers.push(o.key);
      assert.deepEqual(leftovers, []);
    });

    test('abort signal stops the upload and leaves nothing', async () => {
      const ac = new AbortController();
      const slow = new Readable({
        read() {
          setTimeout(() => this.push(crypto.randomBytes(64 * 1024)), 5);
        },
      });
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(store.put(slow, 'files/t/aborted', { contentType: 'x/y', maxBytes: 50e6, signal: ac.signal }));
      assert.equal(await store.exists('files/t/aborted'), false);
    });

    test('missing objects: get throws NotFound, stat is null, delete is idempotent', async () => {
      await assert.rejects(store.get('files/t/nope'), StorageNotFoundError);
      assert.equal(await store.stat('files/t/nope'), null);
      await store.delete('files/t/nope');
      await store.delete('files/t/exact');
      assert.equal(await store.exists('files/t/exact'), false);
    });

    test('list yields keys under a prefix with size and time', async () => {
      await store.put(Readable.from([Buffer.from('a')]), 'files/l/one', { contentType: 'x/y', maxBytes: 10 });
      await store.put(Readable.from([Buffer.from('bb')]), 'files/l/sub/two', { contentType: 'x/y', maxBytes: 10 });
      const listed = [];
      for await (const o of store.list('files/l/')) listed.push(o);
      assert.deepEqual(listed.map((o) => o.key).sort(), ['files/l/one', 'files/l/sub/two']);
      assert.ok(listed.every((o) => o.lastModified instanceof Date && o.lastModified.getTime() > Date.now() - 600_000));
      assert.deepEqual(listed.map((o) => o.size).sort(), [1, 2]);
    });

    test('keys that could escape the root or are malformed are refused', async () => {
      for (const key of ['../x', 'files/../../etc/passwd', '/abs', 'a//b', 'files/./x', 'a\\b', 'sp ace', '']) {
        await assert.rejects(
          store.put(Readable.from([Buffer.from('x')]), key, { contentType: 'x/y', maxBytes: 10 }),
          /invalid storage key|escapes/,
          key,
        );
        await assert.rejects(store.get(key), /invalid storage key|escapes/, key);
      }
    });

    test('abortIncomplete discards the unfinished parts a dead process left for a key', async () => {
      const key = `files/crash/${crypto.randomBytes(4).toString('hex')}`;
      if (!(store instanceof S3Storage)) {
        assert.equal(await store.abortIncomplete(key), 0);
        return;
      }
      const s3 = store;
      // What a process killed mid-upload leaves: a started multipart upload with a part.
      const started = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }));
      await s3.client.send(
        new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId: started.UploadId, PartNumber: 1, Body: crypto.randomBytes(5 * 1024 * 1024) }),
      );
      const pending = async () =>
        ((await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: key }))).Uploads ?? []).filter((u) => u.Key === key);
      assert.equal((await pending()).length, 1);
      assert.equal(await s3.abortIncomplete(key), 1);
      assert.equal((await pending()).length, 0);
      assert.equal(await s3.abortIncomplete(key), 0);
      assert.equal(await s3.exists(key), false);
    });

    test('sign produces a URL naming the file, with an expiry', async () => {
      const url = new URL(
        await store.sign('files/l/one', {
          fileId: '00000000-0000-4000-8000-000000000001',
          contentDisposition: 'attachment; filename="one"',
          contentType: 'application/octet-stream',
          expiresInSeconds: 60,
        }),
      );
      if (b.name === 'disk') {
        assert.match(url.pathname, /\/api\/v1\/files\/00000000-0000-4000-8000-000000000001\/content$/);
        assert.ok(url.searchParams.get('sig') && url.searchParams.get('expires'));
      } else {
        assert.equal(url.searchParams.get('X-Amz-Expires'), '60');
        assert.equal(url.searchParams.get('response-content-disposition'), 'attachment; filename="one"');
        const res = await fetch(url);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-disposition'), 'attachment; filename="one"');
        assert.equal(await res.text(), 'a');
      }
    });
  });
}

describe('storage unreachable', () => {
  test('s3 pointed at a closed port answers StorageUnavailableError quickly', async () => {
    const s = new S3Storage(s3Settings('whatever', 'http://127.0.0.1:1'));
    const started = Date.now();
    await assert.rejects(
      s.put(Readable.from([Buffer.from('x')]), 'files/x', { contentType: 'x/y', maxBytes: 10 }),
      StorageUnavailableError,
    );
    await assert.rejects(s.check(), StorageUnavailableError);
    assert.ok(Date.now() - started < 20_000);
  });

  test('disk root that cannot be written is unavailable', async () => {
    // A regular file where the root directory should be: unwritable even for root.
    const blocker = path.join(tmpRoot, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    const s = new DiskStorage({ root: path.join(blocker, 'files'), publicBaseUrl: 'http://x', signingSecret: 's'.repeat(32) });
    await assert.rejects(s.put(Readable.from([Buffer.from('x')]), 'files/x', { contentType: 'x/y', maxBytes: 10 }), StorageUnavailableError);
  });
});
