// Upload benchmark (not a test): `node --import tsx bench/upload.ts [--mb 100] [--runs 3]`.
// Needs MinIO from scripts/test-services.sh (TEST_S3_* env, defaults match it).
//
// The service runs in a child process so its memory is measured apart from the
// client's: the child samples its own RSS / heap / external memory every 10 ms and
// reports the peak growth over its idle baseline for each upload. Throughput is the
// same N MB pushed (a) through the service to MinIO (multipart over HTTP), (b) through
// the service to local disk, and (c) straight to MinIO with lib-storage from this
// process, same part size — the cost of the service hop.
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Upload } from '@aws-sdk/lib-storage';
import { S3Storage } from '../src/adapters/storage/s3.ts';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const S3 = {
  endpoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:19000',
  accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? 'auralinktest',
  secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? 'auralink-test-minio-secret-0123',
  region: process.env.TEST_S3_REGION ?? 'us-east-1',
};

/** N bytes generated in 1 MiB chunks from a few random blocks: never held whole. */
function body(bytes: number): Readable {
  const blocks = Array.from({ length: 8 }, () => crypto.randomBytes(MiB));
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return void this.push(null);
      const n = Math.min(MiB, bytes - sent);
      this.push(blocks[(sent / MiB) % 8]!.subarray(0, n));
      sent += n;
    },
  });
}

// ------------------------------------------------------------------ server (child)
async function serve(backend: 'disk' | 's3', bucket: string): Promise<void> {
  const { loadConfig } = await import('../src/config.ts');
  const { createContext } = await import('../src/context.ts');
  const { buildApp } = await import('../src/app.ts');
  const { devToken, devUserId } = await import('../src/cli/dev-token.ts');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-bench-'));
  const config = loadConfig({
    NODE_ENV: 'bench',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    JOBS_ENABLED: 'false',
    RATE_LIMIT_MAX: '100000',
    STORAGE_BACKEND: backend,
    ...(backend === 's3'
      ? { S3_ENDPOINT: S3.endpoint, S3_ACCESS_KEY_ID: S3.accessKeyId, S3_SECRET_ACCESS_KEY: S3.secretAccessKey, STORAGE_BUCKET: bucket }
      : {}),
  });
  const ctx = await createContext(config);
  const app = await buildApp(ctx);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const token = await devToken(config.auth.jwtSecret, 'bench');
  await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: { authorization: `Bearer ${token}` } });
  const callId = await ctx.db.privileged(async (sql) => {
    const { rows } = await sql.query<{ call_id: string }>(
      `INSERT INTO calls (room_name, name, created_by) VALUES ($1, 'bench', $2) RETURNING call_id`,
      [`bench-${crypto.randomBytes(4).toString('hex')}`, devUserId('bench')],
    );
    return rows[0]!.call_id;
  });

  global.gc?.();
  const sample = () => process.memoryUsage();
  let base = sample();
  let peak = { rss: 0, heapUsed: 0, external: 0 };
  setInterval(() => {
    const m = sample();
    peak = {
      rss: Math.max(peak.rss, m.rss - base.rss),
      heapUsed: Math.max(peak.heapUsed, m.heapUsed - base.heapUsed),
      // external already includes arrayBuffers (Buffers): memory outside the JS heap.
      external: Math.max(peak.external, m.external - base.external),
    };
  }, 10).unref();
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'reset') {
      global.gc?.();
      base = sample();
      peak = { rss: 0, heapUsed: 0, external: 0 };
      process.send!({ cmd: 'reset-ok', baseRss: base.rss });
    } else if (msg.cmd === 'peak') process.send!({ cmd: 'peak', peak });
    else if (msg.cmd === 'stop') void app.close().then(() => ctx.close()).then(() => process.exit(0));
  });
  process.send!({ cmd: 'ready', address, token, callId });
}

// ------------------------------------------------------------------ client (parent)
function request(child: ChildProcess, cmd: string): Promise<any> {
  return new Promise((resolve) => {
    const on = (m: { cmd: string }) => {
      if (m.cmd === (cmd === 'reset' ? 'reset-ok' : cmd)) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send({ cmd });
  });
}

function multipartUpload(address: string, token: string, callId: string, bytes: number): Promise<{ status: number; ms: number }> {
  const boundary = `bench${crypto.randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n${callId}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${address}/api/v1/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + bytes + tail.length),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.write(head);
    const src = body(bytes);
    src.on('end', () => req.end(tail));
    src.pipe(req, { end: false });
  });
}

async function direct(bucket: string, bytes: number): Promise<number> {
  const store = new S3Storage({ ...S3, bucket, forcePathStyle: true });
  await store.ensureBucket();
  const started = performance.now();
  await new Upload({
    client: store.client,
    params: { Bucket: bucket, Key: `direct/${crypto.randomUUID()}`, Body: body(bytes) },
    partSize: 8 * MiB,
    queueSize: 3,
  }).done();
  return performance.now() - started;
}

const fmt = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const rate = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.env.AURALINK_BENCH_CHILD) {
    await serve(process.env.AURALINK_BENCH_CHILD as 'disk' | 's3', process.env.AURALINK_BENCH_BUCKET!);
    return;
  }
  const mb = arg('mb', 100);
  const runs = arg('runs', 3);
  const bytes = mb * MiB;
  const bucket = `auralink-bench-${crypto.randomBytes(4).toString('hex')}`;
  console.log(`upload benchmark: ${mb} MiB x ${runs} runs, node ${process.version}, ${os.cpus().length} CPUs`);
  type Series = { ms: number[]; rss: number[]; heap: number[]; ext: number[] };
  const results: Record<string, Series> = {};
  const series = (): Series => ({ ms: [], rss: [], heap: [], ext: [] });

  for (const backend of ['s3', 'disk'] as const) {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, AURALINK_BENCH_CHILD: backend, AURALINK_BENCH_BUCKET: bucket },
    });
    const ready = await new Promise<any>((resolve) => child.on('message', (m: any) => m.cmd === 'ready' && resolve(m)));
    const r = (results[`service -> ${backend}`] = series());
    await multipartUpload(ready.address, ready.token, ready.callId, 4 * MiB); // warm-up
    for (let i = 0; i < runs; i++) {
      await request(child, 'reset');
      const { status, ms } = await multipartUpload(ready.address, ready.token, ready.callId, bytes);
      if (status !== 201) throw new Error(`upload answered ${status}`);
      const { peak } = await request(child, 'peak');
      r.ms.push(ms);
      r.rss.push(peak.rss);
      r.heap.push(peak.heapUsed);
      r.ext.push(peak.external);
    }
    child.send({ cmd: 'stop' });
    await new Promise((resolve) => child.on('exit', resolve));
  }
  const d = (results['direct -> s3 (lib-storage)'] = series());
  await direct(bucket, 4 * MiB);
  for (let i = 0; i < runs; i++) d.ms.push(await direct(bucket, bytes));

  console.log('\npath                         median time  throughput   server peak growth over idle (RSS / JS heap / external incl. Buffers)');
  for (const [name, r] of Object.entries(results)) {
    const t = median(r.ms);
    const mem = r.rss.length ? `${fmt(Math.max(...r.rss))} / ${fmt(Math.max(...r.heap))} / ${fmt(Math.max(...r.ext))}` : '(client side)';
    console.log(`${name.padEnd(28)} ${`${(t / 1000).toFixed(2)} s`.padStart(11)}  ${rate(bytes, t).padStart(11)}  ${mem}`);
  }
  const ratio = median(results['service -> s3']!.ms) / median(d.ms);
  console.log(`\nservice hop to S3 costs x${ratio.toFixed(2)} the time of a direct upload (${(100 / ratio).toFixed(0)}% of direct throughput)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
