// Upload benchmark (not a test):
//   node --import tsx bench/upload.ts [--mb 100] [--runs 3] [--prof DIR] [--node-flags "..."] [--pglite]
// Needs MinIO from scripts/test-services.sh (TEST_S3_* env, defaults match it) and PostgreSQL
// (TEST_DATABASE_URL; --pglite runs the service on the embedded database instead).
//
// The service runs in a child process so its memory is measured apart from the
// client's: the child samples its own RSS / heap / external memory every 10 ms and
// reports the peak growth over its idle baseline for each upload. Throughput is the
// same N MB pushed (a) through the service to MinIO (multipart over HTTP), (b) through
// the service to local disk, and (c) straight to MinIO with lib-storage from this
// process, same part size, alternating with (a) — the cost of the service hop. CPU is counted per upload in
// each process that does the work (the service; this process for the direct path; MinIO
// from /proc when it runs on this machine), because on 2 shared cores the time of the
// hop is mostly the CPU it adds. `--prof DIR` writes the service's CPU profiles there.
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Upload } from '@aws-sdk/lib-storage';
import { PART_SIZE, QUEUE_SIZE, S3Storage } from '../src/adapters/storage/s3.ts';

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
async function serve(backend: 'disk' | 's3', bucket: string, databaseUrl: string | undefined): Promise<void> {
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
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
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
  let cpu0 = process.cpuUsage();
  // The uploads' spans on the profiler's clock (monotonic µs), so --prof counts only them.
  const spans: Array<[number, number]> = [];
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
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
      cpu0 = process.cpuUsage();
      spans.push([nowUs(), 0]);
      process.send!({ cmd: 'reset-ok', baseRss: base.rss });
    } else if (msg.cmd === 'peak') {
      spans[spans.length - 1]![1] = nowUs();
      const c = process.cpuUsage(cpu0);
      process.send!({ cmd: 'peak', peak, cpu: { user: c.user / 1000, system: c.system / 1000 } });
    } else if (msg.cmd === 'stop') {
      if (process.env.AURALINK_BENCH_PROF) fs.writeFileSync(path.join(process.env.AURALINK_BENCH_PROF, 'spans.json'), JSON.stringify(spans));
      void app.close().then(() => ctx.close()).then(() => process.exit(0));
    }
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
    // The service's own settings: the comparison is of the hop, not of the tuning.
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
  }).done();
  return performance.now() - started;
}

/** The MinIO serving the endpoint's port, when it runs on this machine: its CPU is part of either path. */
function minioPid(): number | null {
  const port = new URL(S3.endpoint).port;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (/minio$/.test(cmd[0] ?? '') && cmd.includes('server') && cmd.some((a) => a.endsWith(`:${port}`))) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

function prodFlags(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts['start:prod']!.split(/\s+/).filter((a) => a.startsWith('--')).join(' ');
}

/**
 * A fresh database on the real PostgreSQL (TEST_DATABASE_URL), as production runs: the
 * embedded PGlite would put its own work (a WASM engine behind a socket) in the service's
 * CPU and heap. The service migrates it at start; it is dropped at the end.
 */
async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const pg = (await import('pg')).default;
  const admin = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `auralink_bench_upload_${crypto.randomBytes(4).toString('hex')}`;
  const run = async (q: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** utime + stime (ms) of a process from /proc (USER_HZ 100). */
function procCpu(pid: number | null): number {
  if (pid === null) return 0;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const ownCpu = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1000;
};

/** Self time by area and the hottest functions of the service's biggest profile (`--prof`). */
function summarize(dir: string): string {
  type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } };
  const spans = JSON.parse(fs.readFileSync(path.join(dir, 'spans.json'), 'utf8')) as Array<[number, number]>;
  const inSpan = (t: number) => spans.some(([a, b]) => t >= a && t <= b);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const profiles = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] });
  const p = profiles.sort((a, b) => b.samples.length - a.samples.length)[0] as typeof profiles[0] & { startTime: number } | undefined;
  if (!p) return `no profile in ${dir}`;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (inSpan(t)) self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000);
  });
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const area = pkg ?? (url.startsWith('node:') ? url : /\/(src\/.+)$/.exec(url)?.[1] ?? (url || (functionName.startsWith('(') ? functionName : '(native)')));
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, n: number) => [...m].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, ms]) => `  ${ms.toFixed(0).padStart(6)} ms  ${k}`).join('\n');
  return `service profile (${dir}, samples during the measured uploads)\nby area:\n${top(areas, 15)}\nfunctions:\n${top(fns, 20)}`;
}

const fmt = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const rate = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.env.AURALINK_BENCH_CHILD) {
    await serve(process.env.AURALINK_BENCH_CHILD as 'disk' | 's3', process.env.AURALINK_BENCH_BUCKET!, process.env.AURALINK_BENCH_DB);
    return;
  }
  const prof = args.includes('--prof') ? path.resolve(args[args.indexOf('--prof') + 1]!) : null;
  const minio = minioPid();
  // V8 flags of the service process: production's (package.json start:prod) unless --node-flags says others.
  const nodeFlags = (args.includes('--node-flags') ? args[args.indexOf('--node-flags') + 1]! : prodFlags()).split(/\s+/).filter(Boolean);
  const scratch = args.includes('--pglite') ? null : await scratchDatabase();
  const mb = arg('mb', 100);
  const runs = arg('runs', 3);
  const bytes = mb * MiB;
  const bucket = `auralink-bench-${crypto.randomBytes(4).toString('hex')}`;
  console.log(`upload benchmark: ${mb} MiB x ${runs} runs, node ${process.version} ${nodeFlags.join(' ')}, ${os.cpus().length} CPUs, ` +
    `database ${scratch ? 'PostgreSQL (scratch database)' : 'embedded PGlite'}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  // CPU ms per upload: the service (user/system), this process (the client; the whole direct path), MinIO.
  type Series = { ms: number[]; rss: number[]; heap: number[]; ext: number[]; svcUser: number[]; svcSys: number[]; client: number[]; minio: number[] };
  const results: Record<string, Series> = {};
  const series = (): Series => ({ ms: [], rss: [], heap: [], ext: [], svcUser: [], svcSys: [], client: [], minio: [] });

  const d = series();
  const directRun = async () => {
    const c0 = process.cpuUsage();
    const m0 = procCpu(minio);
    d.ms.push(await direct(bucket, bytes));
    d.client.push(ownCpu(c0));
    d.minio.push(procCpu(minio) - m0);
  };
  try {
    await direct(bucket, 4 * MiB); // warm-up (and the bucket)
    for (const backend of ['s3', 'disk'] as const) {
      const child = fork(fileURLToPath(import.meta.url), [], {
        execArgv: ['--import', 'tsx', '--expose-gc', ...nodeFlags, ...(prof && backend === 's3' ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])],
        env: { ...process.env, AURALINK_BENCH_CHILD: backend, AURALINK_BENCH_BUCKET: bucket, ...(scratch ? { AURALINK_BENCH_DB: scratch.url } : {}), ...(prof && backend === 's3' ? { AURALINK_BENCH_PROF: prof } : {}) },
      });
      const ready = await new Promise<any>((resolve) => child.on('message', (m: any) => m.cmd === 'ready' && resolve(m)));
      const r = (results[`service -> ${backend}`] = series());
      await multipartUpload(ready.address, ready.token, ready.callId, 4 * MiB); // warm-up
      for (let i = 0; i < runs; i++) {
        // The direct upload alternates with the one through the service (before it on odd
        // runs, after it on even ones), so a change in the machine's load hits both alike.
        if (backend === 's3' && i % 2 === 1) await directRun();
        await request(child, 'reset');
        const c0 = process.cpuUsage();
        const m0 = procCpu(minio);
        const { status, ms } = await multipartUpload(ready.address, ready.token, ready.callId, bytes);
        r.client.push(ownCpu(c0));
        r.minio.push(procCpu(minio) - m0);
        if (status !== 201) throw new Error(`upload answered ${status}`);
        const { peak, cpu } = await request(child, 'peak');
        r.svcUser.push(cpu.user);
        r.svcSys.push(cpu.system);
        r.ms.push(ms);
        r.rss.push(peak.rss);
        r.heap.push(peak.heapUsed);
        r.ext.push(peak.external);
        if (backend === 's3' && i % 2 === 0) await directRun();
      }
      child.send({ cmd: 'stop' });
      await new Promise((resolve) => child.on('exit', resolve));
    }
  } finally {
    await scratch?.drop();
  }
  results['direct -> s3 (lib-storage)'] = d;

  console.log('\npath                         median time  throughput   server peak growth over idle (RSS / JS heap / external incl. Buffers)');
  for (const [name, r] of Object.entries(results)) {
    const t = median(r.ms);
    const mem = r.rss.length ? `${fmt(Math.max(...r.rss))} / ${fmt(Math.max(...r.heap))} / ${fmt(Math.max(...r.ext))}` : '(client side)';
    console.log(`${name.padEnd(28)} ${`${(t / 1000).toFixed(2)} s`.padStart(11)}  ${rate(bytes, t).padStart(11)}  ${mem}`);
  }
  console.log(`\nCPU ms per upload (median)   service user + system   client   MinIO${minio === null ? ' (not found on this machine)' : ''}`);
  for (const [name, r] of Object.entries(results)) {
    const svc = r.svcUser.length ? `${median(r.svcUser).toFixed(0)} + ${median(r.svcSys).toFixed(0)}` : '-';
    console.log(`${name.padEnd(28)} ${svc.padStart(21)}   ${median(r.client).toFixed(0).padStart(6)}   ${median(r.minio).toFixed(0).padStart(5)}`);
  }
  if (prof) console.log(`\n${summarize(prof)}`);
  const ratio = median(results['service -> s3']!.ms) / median(d.ms);
  console.log(`\nservice hop to S3 costs x${ratio.toFixed(2)} the time of a direct upload (${(100 / ratio).toFixed(0)}% of direct throughput)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
