// S3Storage.put against a real MinIO, with S3's least part size (5 MiB) so that small
// bodies make several parts: bytes arrive intact and in order whatever the chunking,
// the empty / single-part / exact-boundary bodies store what was sent, and a failure
// (limit, broken source, missing bucket) leaves neither an object nor an unfinished
// multipart upload.
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { before, describe, test } from 'node:test';
import { StorageLimitError, StorageUnavailableError } from '../src/adapters/storage/index.ts';
import { S3Storage } from '../src/adapters/storage/s3.ts';
import { serviceSkip, tcpReachable, testS3Endpoint, testS3Settings, urlHostPort } from './helpers/services.ts';

const endpoint = testS3Endpoint;
const { host, port } = urlHostPort(endpoint, 80);
const skip = await serviceSkip('MinIO', await tcpReachable(host, port), endpoint);
const PART = 5 * 1024 * 1024;
const settings = testS3Settings;

/** `data` cut into chunks of the given sizes, repeated. */
function chunked(data: Buffer, sizes: number[]): Readable {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(out);
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('S3Storage.put (MinIO, 5 MiB parts)', { skip }, () => {
  let store: S3Storage;
  before(async () => {
    store = new S3Storage(settings(`auralink-s3up-${crypto.randomBytes(4).toString('hex')}`), PART);
    await store.ensureBucket();
  });

  const unfinished = async (key: string) =>
    ((await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: key }))).Uploads ?? []).filter((u) => u.Key === key);

  /** Parts the object was stored as: S3's ETag of a multipart object ends in -<parts>; a PutObject's is the plain MD5. */
  const partsOf = async (key: string) => {
    const etag = (await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }))).ETag ?? '';
    const m = /-(\d+)"?$/.exec(etag);
    return m ? Number(m[1]) : 1;
  };

  async function roundTrip(name: string, data: Buffer, sizes: number[], parts: number) {
    const key = `files/s3up/${name}`;
    const seen = crypto.createHash('sha256');
    const res = await store.put(chunked(data, sizes), key, { contentType: 'application/octet-stream', maxBytes: data.length, observe: (c) => seen.update(c) });
    assert.equal(res.size, data.length, name);
    assert.equal(seen.digest('hex'), sha(data), `${name}: observe saw every byte once, in order`);
    const back: Buffer[] = [];
    for await (const c of (await store.get(key)).body) back.push(c as Buffer);
    assert.equal(sha(Buffer.concat(back)), sha(data), `${name}: stored bytes`);
    assert.deepEqual(await unfinished(key), [], name);
    assert.equal(await partsOf(key), parts, `${name}: ${parts === 1 ? 'one PutObject' : `${parts} parts`}`);
  }

  test('a 7-part body with chunks straddling every part boundary arrives intact', async () => {
    await roundTrip('seven', crypto.randomBytes(6 * PART + 12_345), [65_536, 1, 1_000_003, 7], 7);
  });

  test('empty, one byte and exactly one part as one PutObject; one byte over and exactly two parts as two', async () => {
    await roundTrip('empty', Buffer.alloc(0), [1], 1);
    await roundTrip('one', Buffer.from('x'), [1], 1);
    await roundTrip('exact1', crypto.randomBytes(PART), [PART], 1);
    await roundTrip('over1', crypto.randomBytes(PART + 1), [65_536], 2);
    await roundTrip('exact2', crypto.randomBytes(2 * PART), [PART / 2], 2);
  });

  test('over the limit mid-multipart: StorageLimitError, no object, the upload aborted', async () => {
    const key = 'files/s3up/limit';
    await assert.rejects(
      store.put(chunked(crypto.randomBytes(3 * PART), [65_536]), key, { contentType: 'x/y', maxBytes: 2 * PART + 10 }),
      StorageLimitError,
    );
    assert.equal(await store.exists(key), false);
    assert.deepEqual(await unfinished(key), []);
  });

  test('a source that fails after two parts: its error, no object, the upload aborted', async () => {
    const key = 'files/s3up/broken';
    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent >= 2 * PART + 3 * 65_536) return void this.destroy(new Error('client went away'));
        sent += 65_536;
        this.push(crypto.randomBytes(65_536));
      },
    });
    await assert.rejects(store.put(failing, key, { contentType: 'x/y', maxBytes: 50e6 }), /client went away/);
    assert.equal(await store.exists(key), false);
    assert.deepEqual(await unfinished(key), []);
  });

  test('a bucket that does not exist fails the first part as storage unavailable', async () => {
    const gone = new S3Storage(settings(`auralink-s3up-${crypto.randomBytes(4).toString('hex')}`), PART);
    // Skip ensureBucket's creation: pretend it was done.
    (gone as unknown as { bucketReady: Promise<void> }).bucketReady = Promise.resolve();
    await assert.rejects(gone.put(chunked(crypto.randomBytes(2 * PART), [65_536]), 'files/x', { contentType: 'x/y', maxBytes: 50e6 }), StorageUnavailableError);
  });
});
