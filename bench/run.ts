// Load scenarios against the service on the bench datasets, with baselines measured in
// the same run (pgbench on the same SQL and RLS settings; direct S3), as JSON + markdown.
//
//   npm run bench:dataset -- --scale 10k,1m     (once; 10m works too, if you have the time)
//   npm run bench [-- --scales 10k,1m --duration 10 --connections 50 --no-upload]
//
// Needs PostgreSQL (TEST_DATABASE_URL / BENCH_ADMIN_URL) and pgbench; MinIO for the
// file scenarios (TEST_S3_*). Other load on the machine skews absolute numbers: read
// the ratios, which are measured back to back.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { eventJson, sign } from '../test/helpers/webhooks.ts';
import { benchDatabaseUrl, userId } from './dataset.ts';
import { cannon, pgbench, serviceCommand, startService, tokenFor, type Measured, type Service } from './lib.ts';
import { evaluateTargets, markdown } from './report.ts';
import { adminScenarios } from './admin.ts';
import { deepCursor, listCallsSql, pgbenchScript } from './list-sql.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const DURATION = Number(opt('duration', '10'));
const CONNECTIONS = Number(opt('connections', '50'));
const POOL = Number(opt('pool', '10'));
// List calls spreads over all 10k users (uniform pick of a Zipf-skewed population: mostly
// light users, some very busy ones); `--users 100` narrows it to the 100 busiest.
const LIST_USERS = Number(opt('users', '10000'));
const HOT_USERS = 100; // the other scenarios act as the 100 busiest users
const DEEP_RANK = 20; // deep cursor: halfway down the history of the 20th busiest user
const S3 = {
  endpoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:19000',
  accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? 'auralinktest',
  secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? 'auralink-test-minio-secret-0123',
};
const BUCKET = 'auralink-bench';
// `--pg-socket /var/run/postgresql`: the service and pgbench both reach PostgreSQL through
// its unix socket instead of loopback TCP (what a co-located database would use).
const PG_SOCKET = opt('pg-socket', '');
const dbUrl = (scale: string) => (PG_SOCKET ? `${benchDatabaseUrl(scale)}?host=${encodeURIComponent(PG_SOCKET)}` : benchDatabaseUrl(scale));
const LK = { key: 'auralink-bench-key', secret: 'auralink-bench-livekit-secret-0123456789abcdef' };

async function existingScales(): Promise<string[]> {
  const requested = opt('scales', '10k,1m,10m').split(',');
  const out: string[] = [];
  for (const s of requested) {
    const c = new pg.Client({ connectionString: benchDatabaseUrl(s) });
    const ok = await c.connect().then(() => true, () => false);
    if (ok) {
      const has = await c.query(`SELECT 1 FROM pg_tables WHERE tablename = 'bench_meta'`);
      if (has.rowCount) out.push(s);
      await c.end();
    }
  }
  return out;
}

const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

async function api(svc: Service, token: string | null, method: string, url: string, body?: unknown) {
  const res = await fetch(`${svc.base}/api/v1${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  const json = res.status === 204 ? null : await res.json();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json as any;
}

function serviceEnv(scale: string, workers = '1'): Record<string, string> {
  return {
    WORKERS: workers,
    DATABASE_URL: dbUrl(scale),
    DATABASE_POOL_MAX: String(POOL),
    // Migrations added since the dataset was generated apply at start (under the runner's lock).
    MIGRATE_ON_START: 'true',
    JOBS_ENABLED: 'false',
    RATE_LIMIT_MAX: '1000000',
    NODE_ENV: 'development',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-bench-data-')),
    S3_ENDPOINT: S3.endpoint,
    S3_ACCESS_KEY_ID: S3.accessKeyId,
    S3_SECRET_ACCESS_KEY: S3.secretAccessKey,
    STORAGE_BUCKET: BUCKET,
    LIVEKIT_URL: '',
    LIVEKIT_API_KEY: LK.key,
    LIVEKIT_API_SECRET: LK.secret,
    CLAMD_HOST: '',
    SCAN_ENABLED: 'false',
    // More than one worker shares rate-limit budgets through Redis (src/cluster.ts).
    REDIS_URL: workers === '1' ? '' : (process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'),
    LOG_LEVEL: 'info', // as deployed: one line per request
  };
}

/** ANALYZE of the tables the scenarios write, so that plans follow what earlier runs left. */
async function analyze(scale: string, log: (m: string) => void) {
  const c = new pg.Client({ connectionString: benchDatabaseUrl(scale) });
  await c.connect();
  try {
    log(`[${scale}] analyze`);
    await c.query('ANALYZE call_participants, calls, webhook_events');
  } finally {
    await c.end();
  }
}

/**
 * WORKERS=1 against WORKERS=auto on the same data, back to back: contacts (200k over
 * 10k users, plain list and search), get call, token minting.
 */
async function workerComparison(scale: string, out: Measured[], log: (m: string) => void) {
  const c = new pg.Client({ connectionString: benchDatabaseUrl(scale) });
  await c.connect();
  const { rows: pairs } = await c.query<{ rank: number; call_id: string }>(
    `SELECT (right(created_by::text, 12))::int AS rank, call_id FROM calls
      WHERE created_by = ANY($1::uuid[]) AND status = 'ended' ORDER BY call_id LIMIT 2000`,
    [Array.from({ length: HOT_USERS }, (_, i) => userId(i + 1))],
  );
  await c.end();
  const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => tokenFor(userId(i + 1))));
  const auth = (rank: number) => ({ authorization: `Bearer ${tokens[rank - 1]}` });
  for (const workers of ['1', 'auto']) {
    const svc = await startService(serviceEnv(scale, workers));
    const tag = ` [WORKERS=${workers}]`;
    try {
      const run = (name: string, next: () => { method?: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string }, note?: string) =>
        cannon(svc, { name: `${name}${tag}`, scale, connections: CONNECTIONS, duration: DURATION, next, ...(note ? { note } : {}) });
      await cannon(svc, { name: 'warm-up', scale, connections: CONNECTIONS, duration: 3, next: () => ({ path: '/api/v1/contacts', headers: auth(1 + Math.floor(Math.random() * 1000)) }) });
      log(`[${scale}] contacts${tag}`);
      out.push(await run('contacts list', () => ({ path: '/api/v1/contacts?limit=20', headers: auth(1 + Math.floor(Math.random() * 1000)) }), '200k contacts, 20 per user, 1,000 users'));
      out.push(await run('contacts search', () => ({ path: '/api/v1/contacts?q=user&limit=20', headers: auth(1 + Math.floor(Math.random() * 1000)) }), 'q=user (matches every contact)'));
      log(`[${scale}] get call, list calls${tag}`);
      out.push(await run('get call', () => { const p = pick(pairs); return { path: `/api/v1/calls/${p.call_id}`, headers: auth(p.rank) }; }));
      out.push(await run('list calls (first page)', () => ({ path: '/api/v1/calls?limit=20', headers: auth(1 + Math.floor(Math.random() * 1000)) }), '1,000 busiest users'));
      const rooms: string[] = [];
      const invitees = Array.from({ length: HOT_USERS }, (_, i) => userId(i + 1));
      for (let i = 1; i <= 20; i++) {
        rooms.push((await api(svc, tokens[i - 1]!, 'POST', '/rooms', { name: `Workers ${i}`, max_participants: 1000, invitees: invitees.filter((u) => u !== userId(i)) })).call_id);
      }
      log(`[${scale}] token minting${tag}`);
      out.push(await run('token minting', () => ({ method: 'POST', path: `/api/v1/rooms/${pick(rooms)}/token`, headers: { ...auth(1 + Math.floor(Math.random() * HOT_USERS)), 'content-type': 'application/json' }, body: '{}' }), 'access check and seat write'));
    } finally {
      await svc.stop();
    }
  }
}

async function listScenarios(scale: string, out: Measured[], log: (m: string) => void) {
  const url = benchDatabaseUrl(scale);
  const svc = await startService(serviceEnv(scale));
  try {
    const tokens = await Promise.all(Array.from({ length: LIST_USERS }, (_, i) => tokenFor(userId(i + 1))));
    const first = () => ({ path: '/api/v1/calls?limit=20', headers: { authorization: `Bearer ${pick(tokens)}` } });
    await cannon(svc, { name: 'warm-up', scale, connections: CONNECTIONS, duration: 3, next: first });
    log(`[${scale}] list calls, first page`);
    out.push(await cannon(svc, { name: 'list calls (first page)', scale, connections: CONNECTIONS, duration: DURATION, next: first, note: LIST_USERS === 10000 ? 'any of the 10k users' : `${LIST_USERS} busiest users` }));
    log(`[${scale}] pgbench list calls, first page`);
    const sqlFirst = await listCallsSql(null);
    out.push(await pgbench({ url: dbUrl(scale), script: pgbenchScript(sqlFirst, null, LIST_USERS), clients: POOL, seconds: DURATION, name: 'pgbench: list calls (first page)', scale }));

    const deep = await deepCursor(url, DEEP_RANK);
    if (deep) {
      const cursor = Buffer.from(JSON.stringify({ c: deep.created, i: deep.id })).toString('base64url');
      const t1 = tokens[DEEP_RANK - 1]!;
      log(`[${scale}] list calls, deep cursor (offset ${deep.offset})`);
      out.push(await cannon(svc, { name: 'list calls (deep cursor)', scale, connections: CONNECTIONS, duration: DURATION,
        next: () => ({ path: `/api/v1/calls?limit=20&cursor=${cursor}`, headers: { authorization: `Bearer ${t1}` } }), note: `user of rank ${DEEP_RANK}, ${deep.offset} of ${deep.total} rows deep` }));
      out.push(await pgbench({ url: dbUrl(scale), script: pgbenchScript(await listCallsSql({ created: deep.created, id: deep.id }), DEEP_RANK, LIST_USERS), clients: POOL, seconds: DURATION, name: 'pgbench: list calls (deep cursor)', scale }));
    }
  } finally {
    await svc.stop();
  }
}

async function otherScenarios(scale: string, out: Measured[], log: (m: string) => void, withUpload: boolean) {
  const url = benchDatabaseUrl(scale);
  const svc = await startService(serviceEnv(scale));
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tokens = new Map<number, string>();
    for (let i = 1; i <= HOT_USERS; i++) tokens.set(i, await tokenFor(userId(i)));
    // (user, one of the calls they created) pairs for get call / participants.
    const { rows: pairs } = await c.query<{ rank: number; call_id: string }>(
      `SELECT (right(created_by::text, 12))::int AS rank, call_id FROM calls
        WHERE created_by = ANY($1::uuid[]) AND status = 'ended' ORDER BY call_id LIMIT 2000`,
      [Array.from({ length: HOT_USERS }, (_, i) => userId(i + 1))],
    );
    const auth = (rank: number) => ({ authorization: `Bearer ${tokens.get(rank)}` });
    log(`[${scale}] get call, participants`);
    out.push(await cannon(svc, { name: 'get call', scale, connections: CONNECTIONS, duration: DURATION,
      next: () => { const p = pick(pairs); return { path: `/api/v1/calls/${p.call_id}`, headers: auth(p.rank) }; } }));
    out.push(await cannon(svc, { name: 'call participants', scale, connections: CONNECTIONS, duration: DURATION,
      next: () => { const p = pick(pairs); return { path: `/api/v1/calls/${p.call_id}/participants`, headers: auth(p.rank) }; } }));

    // Token minting: 20 live rooms, each inviting the 100 busiest users; a random one of
    // them asks for a token to a random room (LiveKit not configured: records only; the
    // JWT is minted locally either way).
    const rooms: Array<{ rank: number; call_id: string; room_name: string }> = [];
    const invitees = Array.from({ length: HOT_USERS }, (_, i) => userId(i + 1));
    for (let i = 1; i <= 20; i++) {
      const r = await api(svc, tokens.get(i)!, 'POST', '/rooms', {
        name: `Bench room ${i}`, max_participants: 1000, invitees: invitees.filter((u) => u !== userId(i)),
      });
      rooms.push({ rank: i, call_id: r.call_id, room_name: r.room_name });
    }
    log(`[${scale}] token minting`);
    out.push(await cannon(svc, { name: 'token minting', scale, connections: CONNECTIONS, duration: DURATION,
      note: `${HOT_USERS} users over 20 private rooms that invite them`,
      next: () => {
        const r = pick(rooms);
        const rank = 1 + Math.floor(Math.random() * HOT_USERS);
        return { method: 'POST', path: `/api/v1/rooms/${r.call_id}/token`, headers: { ...auth(rank), 'content-type': 'application/json' }, body: '{}' };
      } }));

    // Signed webhooks: distinct participant_joined events over the 20 rooms, each sent once.
    const N = Number(opt('webhooks', '10000'));
    const now = Math.floor(Date.now() / 1000);
    const bodies: Array<{ body: string; sig: string }> = [];
    for (let k = 0; k < N; k++) {
      const r = rooms[k % rooms.length]!;
      const body = eventJson({ event: 'participant_joined', id: `EV_bench_${crypto.randomBytes(6).toString('hex')}_${k}`, createdAt: now,
        room: { name: r.room_name }, participant: { sid: `PA_bench_${k}`, identity: `guest-${k}`, joinedAtMs: now * 1000 } });
      bodies.push({ body, sig: await sign(body, LK.key, LK.secret) });
    }
    const before = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0]!.n;
    let w = 0;
    log(`[${scale}] webhooks x${N}`);
    const wh = await cannon(svc, { name: 'signed webhook ingestion', scale, connections: CONNECTIONS, amount: N,
      next: () => { const b = bodies[w++ % N]!; return { method: 'POST', path: '/api/v1/webhooks/livekit', headers: { 'content-type': 'application/webhook+json', authorization: b.sig }, body: b.body }; } });
    const stored = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0]!.n - before;
    // Only this run's rooms: earlier runs on the same database used the same sids.
    const joined = (await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM call_participants WHERE participant_sid LIKE 'PA_bench_%' AND call_id = ANY($1::uuid[])`,
      [rooms.map((r) => r.call_id)],
    )).rows[0]!.n;
    wh.note = `${N} sent, ${N - wh.non2xx - wh.errors} acknowledged, ${stored} stored, ${joined} sessions applied`;
    (wh as Measured & { lost?: number }).lost = N - Math.min(stored, joined);
    out.push(wh);
    await analyze(scale, log); // the N sessions just connected, for what comes after

    // Link join: 20 public links, anonymous guests.
    const codes: string[] = [];
    for (const r of rooms) codes.push((await api(svc, tokens.get(r.rank)!, 'POST', '/links', { call_id: r.call_id })).short_code);
    log(`[${scale}] link join`);
    out.push(await cannon(svc, { name: 'link join (guest)', scale, connections: CONNECTIONS, duration: DURATION,
      next: () => ({ method: 'POST', path: `/api/v1/join/${pick(codes)}`, headers: { 'content-type': 'application/json' }, body: '{"display_name":"Guest"}' }) }));

    if (withUpload) await downloadScenario(svc, rooms[0]!, tokens.get(1)!, scale, out, log);
  } finally {
    await c.end();
    await svc.stop();
  }
}

/** 100 MB download: the service's signed URL then the bytes, against a direct S3 GetObject of the same object. */
async function downloadScenario(svc: Service, room: { call_id: string }, token: string, scale: string, out: Measured[], log: (m: string) => void) {
  const bytes = 100 * 1024 * 1024;
  const boundary = `bench${crypto.randomBytes(8).toString('hex')}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n${room.call_id}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const blob = new Blob([head, crypto.randomBytes(bytes), `\r\n--${boundary}--\r\n`]);
  const up = await fetch(`${svc.base}/api/v1/files`, { method: 'POST', body: blob, headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } });
  const file = (await up.json()) as { file_id: string };
  if (up.status !== 201) throw new Error(`upload for download: ${up.status} ${JSON.stringify(file)}`);
  const drain = async (body: AsyncIterable<Uint8Array>) => { let n = 0; for await (const ch of body) n += ch.length; return n; };
  const s3 = new S3Client({ endpoint: S3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3.accessKeyId, secretAccessKey: S3.secretAccessKey } });
  const key = (await (async () => {
    const c = new pg.Client({ connectionString: benchDatabaseUrl(scale) });
    await c.connect();
    const { rows } = await c.query<{ storage_path: string }>(`SELECT storage_path FROM files WHERE file_id = $1`, [file.file_id]);
    await c.end();
    return rows[0]!.storage_path;
  })());
  log(`[${scale}] 100 MB download`);
  const times = { service: [] as number[], direct: [] as number[] };
  for (let i = 0; i < 3; i++) {
    svc.rss.reset();
    let t = performance.now();
    const { url } = await api(svc, token, 'GET', `/files/${file.file_id}/download`);
    const res = await fetch(url);
    if ((await drain(res.body as unknown as AsyncIterable<Uint8Array>)) !== bytes) throw new Error('short download');
    times.service.push(performance.now() - t);
    t = performance.now();
    const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    if ((await drain(obj.Body as AsyncIterable<Uint8Array>)) !== bytes) throw new Error('short direct download');
    times.direct.push(performance.now() - t);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  const mibs = (ms: number) => Math.round((100 / (ms / 1000)) * 10) / 10;
  out.push({ scenario: '100 MB download (via signed URL)', scale, connections: 1, requests: 3, rps: 0, p50_ms: Math.round(med(times.service)), p99_ms: Math.round(Math.max(...times.service)),
    errors: 0, non2xx: 0, ...svc.rss.result(), note: `${mibs(med(times.service))} MiB/s; direct S3 GET ${mibs(med(times.direct))} MiB/s (ratio ${(med(times.direct) / med(times.service)).toFixed(2)})` });
}

/** The 100 MB upload, measured by the files helper's bench/upload.ts (service -> S3 vs direct lib-storage). */
async function uploadScenario(scale: string, out: Measured[], log: (m: string) => void) {
  log('100 MB upload: bench/upload.ts --mb 100 --runs 3');
  const text = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'bench/upload.ts', '--mb', '100', '--runs', '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    p.stdout.on('data', (d) => (s += d));
    p.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`bench/upload.ts exited ${code}\n${s}`))));
  });
  const row = (name: string) => {
    const m = new RegExp(`^${name.replace(/[()>]/g, '.')}\\s+([\\d.]+) s\\s+([\\d.]+) MiB/s\\s*(?:([\\d.]+) MiB)?`, 'm').exec(text);
    return m ? { s: Number(m[1]), mibs: Number(m[2]), rss: m[3] ? Number(m[3]) : null } : null;
  };
  const svc = row('service -> s3');
  const direct = row('direct -> s3 (lib-storage)');
  if (!svc || !direct) throw new Error(`could not read bench/upload.ts output:\n${text}`);
  out.push({ scenario: '100 MB upload (service -> S3)', scale, connections: 1, requests: 3, rps: 0, p50_ms: Math.round(svc.s * 1000), p99_ms: Math.round(svc.s * 1000),
    errors: 0, non2xx: 0, peak_rss_mb: null, rss_growth_mb: svc.rss, note: `${svc.mibs} MiB/s; direct S3 PUT ${direct.mibs} MiB/s (ratio ${(svc.mibs / direct.mibs).toFixed(2)})` });
}

/** `--report <file.json>`: prints the table of a saved run again, targets re-evaluated. */
function rerender(file: string) {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  report.targets = evaluateTargets(report.results, report.settings.scales);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const md = markdown(report);
  fs.writeFileSync(file.replace(/\.json$/, '.md'), md);
  process.stdout.write(md);
}

async function main() {
  if (args.includes('--report')) return rerender(opt('report', ''));
  const scales = await existingScales();
  if (scales.length === 0) throw new Error('no bench database: run `npm run bench:dataset -- --scale 10k,1m` first');
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const withUpload = !args.includes('--no-upload');
  // The service as production runs it (dist/, start:prod's node flags), built now;
  // BENCH_SERVICE=tsx runs the sources instead.
  if (process.env.BENCH_SERVICE !== 'tsx') {
    process.env.BENCH_SERVICE = 'dist';
    execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const started = new Date();
  const results: Measured[] = [];
  const largest = scales[scales.length - 1]!;
  // `--only-admin`: just the operator scenarios (bench/admin.ts) on the largest scale.
  const onlyAdmin = args.includes('--only-admin');
  // `--only-workers`: just the WORKERS=1 / WORKERS=auto comparison.
  const onlyWorkers = args.includes('--only-workers');
  // Fresh statistics first: earlier runs' webhook scenarios leave tens of thousands of
  // connected sessions that the connected-session indexes' statistics (built empty with
  // the dataset) do not know of, and presence then scans them all (docs/profiles.md).
  await analyze(largest, log);
  if (!onlyAdmin) await workerComparison(largest, results, log);
  if (!onlyAdmin && !onlyWorkers) {
    for (const s of scales) await listScenarios(s, results, log);
    await otherScenarios(largest, results, log, withUpload);
    if (withUpload) await uploadScenario(largest, results, log);
  }
  const adminSvc = onlyWorkers ? null : await startService(serviceEnv(largest));
  if (adminSvc) try {
    await adminScenarios(adminSvc, largest, results, log, DURATION);
  } finally {
    await adminSvc.stop();
  }

  const pgVersion = await (async () => {
    const c = new pg.Client({ connectionString: benchDatabaseUrl(largest) });
    await c.connect();
    const v = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    await c.end();
    return v;
  })();
  const report = {
    started_at: started.toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', memory_gb: Math.round(os.totalmem() / 2 ** 30), loadavg_at_start: os.loadavg(), node: process.version, postgres: pgVersion },
    settings: { duration_s: DURATION, connections: CONNECTIONS, db_pool: POOL, scales, postgres_via: PG_SOCKET ? `unix socket ${PG_SOCKET}` : 'tcp',
      service: process.env.BENCH_SERVICE === 'dist' ? `node ${serviceCommand().join(' ')} (the build, as npm run start:prod)` : 'node --import tsx src/main.ts' },
    results,
    targets: evaluateTargets(results, scales),
  };
  const dir = path.join('bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const md = markdown(report);
  fs.writeFileSync(path.join(dir, `bench-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, `bench-${stamp}.md`), md);
  fs.writeFileSync(path.join(dir, 'latest.md'), md);
  process.stdout.write(md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
