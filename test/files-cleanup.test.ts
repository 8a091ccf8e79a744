// Expiry and the cleanup job, on disk and on MinIO: expired files vanish at once
// and are then removed with their objects; objects no row accounts for are swept;
// abandoned uploads are removed; only one instance runs the job at a time.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { S3Storage } from '../src/adapters/storage/s3.ts';
import * as repo from '../src/domains/files/files.repo.ts';
import { runFileCleanup } from '../src/jobs/file-cleanup.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { countRows, listen, makeCall, storedKeys, upload, type TestCall } from './helpers/files.ts';
import { serviceSkip, tcpReachable, urlHostPort } from './helpers/services.ts';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand } from '@aws-sdk/client-s3';

const endpoint = process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:19000';
const s3 = urlHostPort(endpoint, 80);
const s3Skip = await serviceSkip('MinIO', await tcpReachable(s3.host, s3.port), endpoint);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-cleanup-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const backends: Array<{ name: string; skip: string | false; env: Record<string, string> }> = [
  { name: 'disk', skip: false, env: { DATA_DIR: dataDir, STORAGE_BACKEND: 'disk' } },
  {
    name: 's3',
    skip: s3Skip,
    env: {
      STORAGE_BACKEND: 's3',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: process.env.TEST_S3_ACCESS_KEY ?? 'auralinktest',
      S3_SECRET_ACCESS_KEY: process.env.TEST_S3_SECRET_KEY ?? 'auralink-test-minio-secret-0123',
      STORAGE_BUCKET: `auralink-cleanup-${crypto.randomBytes(4).toString('hex')}`,
    },
  },
];

for (const b of backends) {
  describe(`file cleanup (${b.name})`, { skip: b.skip }, () => {
    let t: TestApp;
    let base: string;
    let call: TestCall;
    before(async () => {
      t = await startTestApp({ env: b.env });
      if (b.name === 's3') await (t.ctx.storage as S3Storage).ensureBucket();
      base = await listen(t);
      call = await makeCall(t, 'alice', ['bob']);
    });
    after(() => t?.close());

    test('expired files disappear at once, then the job deletes row and object', async () => {
      const res = await upload(base, await t.token('bob'), { callId: call.callId, data: Buffer.from('short-lived'), expiresInSeconds: 60 });
      assert.equal(res.status, 201);
      const file = (await res.json()) as { file_id: string; expires_at: string };
      const dl = await fetch(`${base}/api/v1/files/${file.file_id}/download`, { headers: await t.auth('bob') });
      const { url, expires_at } = (await dl.json()) as { url: string; expires_at: string };
      assert.ok(Date.parse(expires_at) <= Date.parse(file.expires_at) + 1000, 'a download URL never outlives its file');
      // Time passes (made deterministic: a loaded machine must not race a 1 s expiry).
      await t.ctx.db.privileged((sql) =>
        sql.query(`UPDATE files SET expires_at = now() - interval '1 second' WHERE file_id = $1`, [file.file_id]),
      );
      const h = await t.auth('bob');
      assert.equal((await fetch(`${base}/api/v1/files/${file.file_id}`, { headers: h })).status, 404);
      assert.equal((await fetch(`${base}/api/v1/files/${file.file_id}/download`, { headers: h })).status, 404);
      const list = (await (await fetch(`${base}/api/v1/files?call_id=${call.callId}`, { headers: h })).json()) as { files: unknown[] };
      assert.equal(list.files.length, 0);
      if (b.name === 'disk') {
        const u = new URL(url);
        assert.equal((await fetch(`${base}${u.pathname}${u.search}`)).status, 404, 'an earlier signed URL dies with the file');
      }
      assert.equal((await storedKeys(t)).length, 1, 'object still there until the job runs');

      const report = await runFileCleanup(t.ctx);
      assert.equal(report.expired, 1);
      assert.equal(report.deleted, 1);
      assert.deepEqual(await storedKeys(t), []);
      assert.equal(await countRows(t, 'files'), 0);
      assert.equal(await countRows(t, 'storage_deletions'), 0);
      const ev = await t.ctx.db.privileged(async (sql) =>
        (await sql.query<{ reason: string }>(
          `SELECT payload->>'reason' AS reason FROM call_events WHERE type = 'file.deleted' AND payload->>'file_id' = $1`,
          [file.file_id],
        )).rows,
      );
      assert.deepEqual(ev, [{ reason: 'expired' }]);
    });

    test('orphans and abandoned uploads are swept; live files and uploads in flight are kept', async () => {
      const kept = (await (await upload(base, await t.token('bob'), { callId: call.callId, data: Buffer.from('keep me') })).json()) as {
        file_id: string;
      };
      const put = (key: string) => t.ctx.storage.put(Readable.from([Buffer.from('orphan')]), key, { contentType: 'x/y', maxBytes: 100 });
      const orphan = `files/zz/${crypto.randomUUID()}`;
      const abandoned = `files/zz/${crypto.randomUUID()}`;
      const inFlight = `files/zz/${crypto.randomUUID()}`;
      await put(orphan);
      await put(abandoned);
      await put(inFlight);
      const bucket = t.ctx.storage.bucket;
      await t.ctx.db.privileged(async (sql) => {
        await sql.query(`INSERT INTO file_uploads (storage_bucket, storage_path, started_at) VALUES ($1, $2, now() - interval '1 day')`, [bucket, abandoned]);
        await sql.query(`INSERT INTO file_uploads (storage_bucket, storage_path) VALUES ($1, $2)`, [bucket, inFlight]);
      });
      // On S3 a process killed mid-upload also leaves multipart parts that no listing shows.
      const s3 = t.ctx.storage instanceof S3Storage ? t.ctx.storage : null;
      const multipartOf = async (key: string) =>
        s3 ? ((await s3.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? []).length : 0;
      if (s3) {
        const mp = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: abandoned }));
        await s3.client.send(new UploadPartCommand({ Bucket: bucket, Key: abandoned, UploadId: mp.UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024) }));
        assert.equal(await multipartOf(abandoned), 1);
      }
      const report = await runFileCleanup(t.ctx, { orphanMinAgeSeconds: 0 });
      assert.equal(await multipartOf(abandoned), 0, 'unfinished multipart parts of the abandoned upload are discarded');
      assert.equal(report.staleUploads, 1);
      assert.equal(report.orphans, 1);
      const keys = await storedKeys(t);
      assert.ok(keys.some((k) => k.endsWith(kept.file_id)), 'a file with a row stays');
      assert.ok(keys.includes(inFlight), 'an upload in flight stays');
      assert.ok(!keys.includes(orphan) && !keys.includes(abandoned));
      assert.equal(await countRows(t, 'file_uploads'), 1);
    });

    test('young objects are never swept (their row may be about to commit)', async () => {
      const young = `files/zz/${crypto.randomUUID()}`;
      await t.ctx.storage.put(Readable.from([Buffer.from('young')]), young, { contentType: 'x/y', maxBytes: 100 });
      const report = await runFileCleanup(t.ctx);
      assert.equal(report.orphans, 0);
      assert.ok((await storedKeys(t)).includes(young));
      await t.ctx.storage.delete(young);
    });

    test('one instance at a time: a second holder is turned away while the lease is held', async () => {
      const lease = (holder: string) => t.ctx.db.privileged((sql) => repo.takeLease(sql, 'file-cleanup', holder, 300));
      assert.equal(await lease('instance-a'), true);
      assert.equal((await runFileCleanup(t.ctx, { holder: 'instance-b' })).ran, false);
      // A holder that crashed lets its lease lapse; then another instance takes over.
      await t.ctx.db.privileged((sql) => sql.query(`UPDATE file_job_leases SET expires_at = now() - interval '1 second'`));
      assert.equal((await runFileCleanup(t.ctx, { holder: 'instance-b' })).ran, true);
      // Released after the run: instance-a gets the next one.
      assert.equal((await runFileCleanup(t.ctx, { holder: 'instance-a' })).ran, true);
    });
  });
}
