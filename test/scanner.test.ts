// Virus scanning against a real clamd (Debian's clamav-daemon with the EICAR test
// signatures made by scripts/services/clamav-testdb.sh): the adapter, then the whole
// path upload -> pending -> queue -> clean / infected, retries and failure.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ClamdScanner } from '../src/adapters/scanner/clamd.ts';
import { ScannerError } from '../src/adapters/scanner/index.ts';
import { runScanQueueOnce } from '../src/jobs/scan-queue.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { countRows, eicar, listen, makeCall, storedKeys, upload, type TestCall } from './helpers/files.ts';
import { serviceSkip, tcpReachable } from './helpers/services.ts';

const host = process.env.TEST_CLAMD_HOST ?? '127.0.0.1';
const port = Number(process.env.TEST_CLAMD_PORT ?? 3310);
const socketPath = process.env.TEST_CLAMD_SOCKET ?? '/tmp/auralink-services/clamd.sock';
const skip = await serviceSkip('clamd', await tcpReachable(host, port), `${host}:${port}`);

const embedded = () =>
  Buffer.concat([crypto.randomBytes(2 * 1024 * 1024), Buffer.from(eicar()), crypto.randomBytes(1024 * 1024)]);

describe('clamd adapter', { skip }, () => {
  const tcp = new ClamdScanner({ host, port });

  test('ping answers over TCP and the unix socket', async () => {
    await tcp.ping();
    if (fs.existsSync(socketPath)) await new ClamdScanner({ socket: socketPath }).ping();
  });

  test('clean bytes are clean; EICAR alone and embedded in a larger file are infected', async () => {
    assert.deepEqual(await tcp.scan(Readable.from([crypto.randomBytes(500_000)])), { status: 'clean' });
    const alone = await tcp.scan(Readable.from([Buffer.from(eicar())]));
    assert.equal(alone.status, 'infected');
    const inside = await tcp.scan(Readable.from([embedded()]));
    assert.equal(inside.status, 'infected');
    assert.match((inside as { signature: string }).signature, /AuraLink\.Test\.EICAR|Eicar/i);
    if (fs.existsSync(socketPath)) {
      assert.equal((await new ClamdScanner({ socket: socketPath }).scan(Readable.from([Buffer.from(eicar())]))).status, 'infected');
    }
  });

  test('a large stream is scanned in chunks, not refused', async () => {
    let left = 40 * 1024 * 1024;
    const big = new Readable({
      read() {
        if (left <= 0) return void this.push(null);
        left -= 1024 * 1024;
        this.push(crypto.randomBytes(1024 * 1024));
      },
    });
    assert.deepEqual(await tcp.scan(big), { status: 'clean' });
  });

  test('an unreachable clamd is a ScannerError', async () => {
    await assert.rejects(new ClamdScanner({ host: '127.0.0.1', port: 1 }).scan(Readable.from([Buffer.from('x')])), ScannerError);
    await assert.rejects(new ClamdScanner({ host: '127.0.0.1', port: 1 }).ping(), ScannerError);
  });
});

describe('scanning uploads', { skip }, () => {
  let t: TestApp;
  let base: string;
  let call: TestCall;
  let dataDir: string;
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-scan-'));
    t = await startTestApp({ env: { DATA_DIR: dataDir, SCAN_ENABLED: 'true', CLAMD_HOST: host, CLAMD_PORT: String(port) } });
    base = await listen(t);
    call = await makeCall(t, 'alice', ['bob']);
  });
  after(async () => {
    await t?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function share(data: Buffer, name = 'f.bin') {
    const res = await upload(base, await t.token('bob'), { callId: call.callId, data, fileName: name });
    assert.equal(res.status, 201);
    return (await res.json()) as { file_id: string; scan_status: string; virus_scanned: boolean };
  }
  const download = async (id: string) =>
    fetch(`${base}/api/v1/files/${id}/download`, { headers: await t.auth('alice') });
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  test('a clean file is pending (409 FILE_NOT_READY) until the queue clears it', async () => {
    const f = await share(crypto.randomBytes(100_000));
    assert.equal(f.scan_status, 'pending');
    assert.equal(f.virus_scanned, false);
    const early = await download(f.file_id);
    assert.equal(early.status, 409);
    assert.equal(await code(early), 'FILE_NOT_READY');
    const report = await runScanQueueOnce(t.ctx);
    assert.equal(report.clean, 1);
    const got = (await (await fetch(`${base}/api/v1/files/${f.file_id}`, { headers: await t.auth('alice') })).json()) as {
      scan_status: string;
      virus_scanned: boolean;
    };
    assert.equal(got.scan_status, 'clean');
    assert.equal(got.virus_scanned, true);
    assert.equal((await download(f.file_id)).status, 200);
    assert.equal(await countRows(t, 'file_scan_jobs'), 0);
  });

  for (const [label, data] of [
    ['EICAR alone', () => Buffer.from(eicar())],
    ['EICAR embedded in a 3 MB file', embedded],
  ] as const) {
    test(`${label} is caught: infected, object deleted, 403 FILE_INFECTED, file.scanned published`, async () => {
      const f = await share(data(), 'totally-safe.pdf');
      assert.ok((await storedKeys(t)).some((k) => k.endsWith(f.file_id)));
      const report = await runScanQueueOnce(t.ctx);
      assert.equal(report.infected, 1);
      const row = (await (await fetch(`${base}/api/v1/files/${f.file_id}`, { headers: await t.auth('bob') })).json()) as {
        scan_status: string;
      };
      assert.equal(row.scan_status, 'infected');
      assert.equal((await storedKeys(t)).some((k) => k.endsWith(f.file_id)), false, 'object deleted');
      assert.equal(await countRows(t, 'storage_deletions'), 0);
      const res = await download(f.file_id);
      assert.equal(res.status, 403);
      assert.equal(await code(res), 'FILE_INFECTED');
      const events = await t.ctx.db.privileged(async (sql) =>
        (await sql.query<{ type: string; status: string }>(
          `SELECT type, payload->'file'->>'scan_status' AS status FROM call_events
            WHERE payload->'file'->>'file_id' = $1 ORDER BY event_id`,
          [f.file_id],
        )).rows,
      );
      assert.deepEqual(events, [
        { type: 'file.shared', status: 'pending' },
        { type: 'file.scanned', status: 'infected' },
      ]);
    });
  }

  test('scanner down: retried with backoff, then failed (still not downloadable)', async () => {
    const f = await share(crypto.randomBytes(1000));
    const dead = new ClamdScanner({ host: '127.0.0.1', port: 1 });
    const opts = { maxAttempts: 2, retryBaseSeconds: 0 };
    assert.equal((await runScanQueueOnce(t.ctx, { ...opts, limit: 1 }, dead)).retried, 1);
    const job = await t.ctx.db.privileged(async (sql) =>
      (await sql.query<{ attempts: number; last_error: string }>('SELECT attempts, last_error FROM file_scan_jobs WHERE file_id = $1', [f.file_id])).rows[0],
    );
    assert.equal(job?.attempts, 1);
    assert.match(job?.last_error ?? '', /clamd/);
    assert.equal((await runScanQueueOnce(t.ctx, opts, dead)).failed, 1);
    const res = await download(f.file_id);
    assert.equal(res.status, 409);
    assert.equal(await code(res), 'FILE_NOT_READY');
  });

  test('two workers at once scan each file once (SKIP LOCKED)', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await share(crypto.randomBytes(10_000))).file_id);
    const [a, b] = await Promise.all([runScanQueueOnce(t.ctx), runScanQueueOnce(t.ctx)]);
    assert.equal(a.clean + b.clean, 4);
    assert.equal(await countRows(t, 'file_scan_jobs'), 0);
  });
});
