// Failure drill: the service killed with SIGKILL in the middle of a streamed upload
// (disk storage, real PostgreSQL). After a restart there is no row for the upload;
// the cleanup job (once the upload is old enough to count as abandoned) removes the
// half-written object and the in-flight record, so nothing is left behind.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devToken } from '../src/cli/dev-token.ts';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { runFileCleanup } from '../src/jobs/file-cleanup.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/db.ts';
import { upload } from './helpers/files.ts';
import { eventually, startInstance, type Instance } from './helpers/instances.ts';
import { serviceSkip } from './helpers/services.ts';

const skip = await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL');

/** Every regular file under dir, relative, with its size. */
function filesUnder(dir: string): Array<{ rel: string; size: number }> {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const full = path.join(e.parentPath, e.name);
      return { rel: path.relative(dir, full), size: fs.statSync(full).size };
    });
}

describe('drill: SIGKILL in the middle of an upload', { skip, timeout: 90_000 }, () => {
  let database: TestDatabase;
  let dataDir: string;
  let instance: Instance | null = null;
  let env: Record<string, string>;
  let janitor: TestApp | null = null;
  let request: http.ClientRequest | null = null;
  const filesDir = () => path.join(dataDir, 'files');
  const count = (table: 'files' | 'file_uploads') =>
    database.db.privileged(async (sql) => (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n);

  before(async () => {
    database = await createTestDatabase('postgres');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-drill-upload-'));
    env = {
      DATABASE_URL: database.url!,
      DATA_DIR: dataDir,
      STORAGE_BACKEND: 'disk',
      JOBS_ENABLED: 'false',
      RATE_LIMIT_MAX: '1000000',
      MIGRATE_ON_START: 'false',
    };
  });
  after(async () => {
    request?.destroy();
    await instance?.kill();
    await janitor?.close().catch(() => undefined);
    await database?.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves no row, and the cleanup job leaves no object and no upload record', async () => {
    instance = await startInstance(env);
    const token = await devToken(DEV_JWT_SECRET, 'alice');
    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(`${instance.base}/api/v1/users/me`, { headers })).status, 200);
    const room = await fetch(`${instance.base}/api/v1/rooms`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Upload drill' }),
    });
    assert.equal(room.status, 201);
    const { call_id: callId } = (await room.json()) as { call_id: string };

    // A raw multipart upload that sends its first 256 KiB, then stalls (a slow client).
    const boundary = `drill${crypto.randomBytes(8).toString('hex')}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n${callId}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    );
    const answered = new Promise<string>((resolve) => {
      request = http.request(`${instance!.base}/api/v1/files`, {
        method: 'POST',
        headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      });
      request.on('response', (res) => resolve(`answered ${res.statusCode}`));
      request.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      request.write(head);
      request.write(crypto.randomBytes(256 * 1024));
    });

    // The bytes are streaming into storage: an in-flight record and a partial object exist.
    const partial = (await eventually(async () => {
      const f = filesUnder(filesDir());
      return f.length === 1 && f[0]!.size > 0 ? f[0]! : undefined;
    }, 30_000, 'a partial object on disk'))!;
    assert.match(partial.rel, /\.part-[0-9a-f]+$/, 'written to a temporary name until complete');
    assert.equal(await count('file_uploads'), 1);

    await instance.kill(); // SIGKILL mid-stream
    assert.match(await answered, /^error /, 'the client saw the connection die, not an answer');
    request = null;

    // Restarted: no row for the upload, the service works, the leftovers are still there.
    instance = await startInstance(env);
    assert.equal(await count('files'), 0, 'no files row for the killed upload');
    assert.equal(await count('file_uploads'), 1, 'the in-flight record survived the crash');
    assert.equal(filesUnder(filesDir()).length, 1);

    // The cleanup job, run the way an instance runs it. Time passes first: the upload is
    // older than the 6 h "abandoned" age and so is its partial object.
    janitor = await startTestApp({ database, env: { DATA_DIR: dataDir, STORAGE_BACKEND: 'disk' } });
    const report0 = await runFileCleanup(janitor.ctx);
    assert.equal(report0.staleUploads + report0.orphans, 0, 'a young upload is left alone');
    assert.equal(filesUnder(filesDir()).length, 1);

    const dayAgo = new Date(Date.now() - 86_400_000);
    await database.db.privileged((sql) => sql.query(`UPDATE file_uploads SET started_at = now() - interval '1 day'`));
    fs.utimesSync(path.join(filesDir(), partial.rel), dayAgo, dayAgo);
    const report = await runFileCleanup(janitor.ctx);
    assert.equal(report.staleUploads, 1, JSON.stringify(report));
    assert.equal(report.orphans, 1, JSON.stringify(report)); // the *.part-* file the stale-upload step does not name
    assert.deepEqual(filesUnder(filesDir()), [], 'no orphan object remains');
    assert.equal(await count('file_uploads'), 0, 'no pending upload record remains');
    assert.equal(await count('files'), 0);

    // The restarted instance takes uploads as before.
    const ok = await upload(instance.base, token, { callId, data: Buffer.from('after the crash') });
    assert.equal(ok.status, 201, await ok.clone().text());
    assert.equal(await count('files'), 1);
    assert.equal(await count('file_uploads'), 0);
  });
});
