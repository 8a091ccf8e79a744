// Failure drill: S3 storage stopped and started again, on a private MinIO (never the
// shared one). While it is down an upload is a clean 503 with no row, a delete still
// removes the row and leaves the object's removal queued, /readiness shows storage
// down; once it is back, the cleanup job really removes the object and drains the
// queues (the failed upload's in-flight record included).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Storage } from '../src/adapters/storage/s3.ts';
import { runFileCleanup } from '../src/jobs/file-cleanup.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { postgresAvailable } from './helpers/db.ts';
import { minioBinary, minioStorageEnv, startPrivateMinio, type PrivateMinio } from './helpers/drills.ts';
import { countRows, listen, makeCall, upload, type TestCall } from './helpers/files.ts';
import { eventually } from './helpers/instances.ts';
import { serviceSkip } from './helpers/services.ts';

const bin = minioBinary();
const skip =
  (await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL')) ||
  (await serviceSkip('a MinIO binary for a private instance', bin !== null, '~/.cache/auralink/bin/minio-*/minio'));

describe('drill: S3 (private MinIO) stopped and started again', { skip, timeout: 90_000 }, () => {
  let dir: string;
  let minio: PrivateMinio;
  let t: TestApp;
  let base: string;
  let call: TestCall;
  let s3: S3Client;
  const bucket = `drill-${crypto.randomBytes(4).toString('hex')}`;

  const readiness = async () => {
    const res = await fetch(`${base}/readiness`);
    return ((await res.json()) as { checks: Record<string, { status: string }> }).checks;
  };
  const headStatus = async (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => 200,
      (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode ?? 0,
    );

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-drill-s3-'));
    minio = await startPrivateMinio(bin!, dir);
    t = await startTestApp({ engine: 'postgres', env: minioStorageEnv(minio, bucket) });
    await (t.ctx.storage as S3Storage).ensureBucket();
    base = await listen(t);
    call = await makeCall(t, 'alice', ['bob']);
    s3 = new S3Client({
      endpoint: minio.endpoint,
      region: minio.region,
      forcePathStyle: true,
      credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
      maxAttempts: 1,
    });
  });

  after(async () => {
    s3?.destroy();
    await t?.close().catch(() => undefined);
    await minio?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails cleanly while storage is down and leaves nothing behind once it is back', async () => {
    // Storage up: an upload works and its object is in MinIO.
    const up = await upload(base, await t.token('bob'), { callId: call.callId, data: crypto.randomBytes(64 * 1024) });
    assert.equal(up.status, 201, await up.clone().text());
    const file = (await up.json()) as { file_id: string };
    const key = await t.ctx.db.privileged(async (sql) =>
      (await sql.query<{ storage_path: string }>('SELECT storage_path FROM files WHERE file_id = $1', [file.file_id])).rows[0]!.storage_path,
    );
    assert.equal(await headStatus(key), 200);
    assert.equal((await readiness()).storage?.status, 'ok');

    // MinIO dies.
    await minio.kill('SIGKILL');

    // An upload now: 503 UPSTREAM_UNAVAILABLE, no row.
    const filesBefore = await countRows(t, 'files');
    const failed = await upload(base, await t.token('bob'), { callId: call.callId, data: crypto.randomBytes(64 * 1024) });
    assert.equal(failed.status, 503, await failed.clone().text());
    assert.equal(((await failed.json()) as { error: { code: string } }).error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(await countRows(t, 'files'), filesBefore, 'no row for a failed upload');
    // The store could not be told to drop the (maybe partial) object, so the upload stays
    // recorded as in flight: that record is how the cleanup job finds it later.
    assert.equal(await countRows(t, 'file_uploads'), 1);

    // A delete of the existing file: the row goes, the object's removal is queued.
    const del = await fetch(`${base}/api/v1/files/${file.file_id}`, { method: 'DELETE', headers: await t.auth('bob') });
    assert.equal(del.status, 204, await del.text());
    assert.equal((await fetch(`${base}/api/v1/files/${file.file_id}`, { headers: await t.auth('bob') })).status, 404);
    assert.equal(await countRows(t, 'files'), filesBefore - 1);
    const queued = await t.ctx.db.privileged(async (sql) =>
      (await sql.query<{ storage_path: string }>('SELECT storage_path FROM storage_deletions')).rows.map((r) => r.storage_path),
    );
    assert.deepEqual(queued, [key]);

    // Readiness says storage is down while the database is fine (storage is required: 503).
    const down = await readiness();
    assert.equal(down.storage?.status, 'down');
    assert.equal(down.database?.status, 'ok');

    // A cleanup run while storage is still down fails its deletes and keeps them queued.
    const blind = await runFileCleanup(t.ctx).catch((err: Error) => err);
    if (!(blind instanceof Error)) assert.equal(blind.deleted, 0);
    assert.equal(await countRows(t, 'storage_deletions'), 1);

    // MinIO back on the same data dir and port: the object is still there.
    await minio.start();
    await eventually(async () => (await readiness()).storage?.status === 'ok', 15_000, 'storage ready again');
    assert.equal(await headStatus(key), 200, 'the deleted file’s object outlived the outage');

    // The cleanup job catches up: the queued deletion (its retry time pulled in, as
    // time would) and the failed upload's record (made old, as the 6 h rule wants).
    await t.ctx.db.privileged(async (sql) => {
      await sql.query(`UPDATE storage_deletions SET next_attempt_at = now() - interval '1 second'`);
      await sql.query(`UPDATE file_uploads SET started_at = now() - interval '1 day'`);
    });
    const report = await runFileCleanup(t.ctx);
    assert.equal(report.ran, true);
    assert.equal(report.deleted, 1, JSON.stringify(report));
    assert.equal(report.staleUploads, 1, JSON.stringify(report));
    assert.equal(report.deleteFailures, 0, JSON.stringify(report));
    assert.equal(await headStatus(key), 404, 'the object is really gone from MinIO');
    assert.equal(await countRows(t, 'storage_deletions'), 0);
    assert.equal(await countRows(t, 'file_uploads'), 0);
    const left: string[] = [];
    for await (const o of t.ctx.storage.list('files/')) left.push(o.key);
    assert.deepEqual(left, [], 'no object left in the bucket');

    // And the service works again without a restart.
    const again = await upload(base, await t.token('bob'), { callId: call.callId, data: Buffer.from('back again') });
    assert.equal(again.status, 201, await again.clone().text());
  });
});
