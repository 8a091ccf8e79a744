// A CPU profile of the service under one load scenario: where its per-request CPU goes.
//
//   node --import tsx bench/profile.ts --scenario <liveness|users-me|contacts|list-calls|token|webhook|get-call>
//        [--seconds 15] [--scale 1m] [--connections 20] [--no-prof] [--top 15]
//
// Starts src/main.ts as bench/lib.ts startService does (WORKERS=1, LOG_LEVEL=info, against
// auralink_bench_<scale>) with `--cpu-prof`, warms up, drives the scenario with autocannon,
// stops the service with SIGTERM (the profile is written at exit) and prints self time by
// area and the hottest functions, counting only the samples taken during the measured load.
// `--no-prof` measures CPU ms/request (utime+stime from /proc) without the profiler.
// Run it under `flock /tmp/bench.lock`: two load runs must not share the cores.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { eventJson, sign } from '../test/helpers/webhooks.ts';
import { benchDatabaseUrl, userId } from './dataset.ts';
import { cannon, startService, tokenFor, type Service, type Shot } from './lib.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : def);
const SCENARIO = opt('scenario', 'liveness');
const SECONDS = Number(opt('seconds', '15'));
const SCALE = opt('scale', '1m');
const CONNECTIONS = Number(opt('connections', '20'));
const TOP = Number(opt('top', '15'));
const PROFILE = !args.includes('--no-prof');
const HOT_USERS = 100;
const LK = { key: 'auralink-bench-key', secret: 'auralink-bench-livekit-secret-0123456789abcdef' };
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

/** utime and stime (ms) of one process, to tell the kernel's share (system calls) apart. */
function userSys(pid: number): [number, number] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) * 10, Number(f[12]) * 10]; // USER_HZ 100
}

async function api(svc: Service, token: string, method: string, url: string, body?: unknown): Promise<any> {
  const res = await fetch(`${svc.base}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  const json = res.status === 204 ? null : await res.json();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The request generator of a scenario (same shapes as bench/run.ts and bench/cpu.ts). */
export async function scenario(svc: Service, name: string): Promise<() => Shot> {
  const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => tokenFor(userId(i + 1))));
  const auth = (rank: number) => ({ authorization: `Bearer ${tokens[rank - 1]}` });
  const anyUser = () => auth(1 + Math.floor(Math.random() * 1000));
  switch (name) {
    case 'liveness':
      return () => ({ path: '/liveness' });
    case 'users-me':
      return () => ({ path: '/api/v1/users/me', headers: auth(1) });
    case 'contacts':
      return () => ({ path: '/api/v1/contacts?limit=20', headers: anyUser() });
    case 'list-calls':
      return () => ({ path: '/api/v1/calls?limit=20', headers: anyUser() });
    case 'get-call': {
      const c = new pg.Client({ connectionString: benchDatabaseUrl(SCALE) });
      await c.connect();
      const { rows } = await c.query<{ rank: number; call_id: string }>(
        `SELECT (right(created_by::text, 12))::int AS rank, call_id FROM calls
          WHERE created_by = ANY($1::uuid[]) AND status = 'ended' ORDER BY call_id LIMIT 2000`,
        [Array.from({ length: HOT_USERS }, (_, i) => userId(i + 1))],
      );
      await c.end();
      return () => { const p = pick(rows); return { path: `/api/v1/calls/${p.call_id}`, headers: auth(p.rank) }; };
    }
    case 'token':
    case 'webhook': {
      // 20 private rooms inviting the 100 busiest users, as bench/run.ts does.
      const invitees = Array.from({ length: HOT_USERS }, (_, i) => userId(i + 1));
      const rooms: Array<{ call_id: string; room_name: string }> = [];
      for (let i = 1; i <= 20; i++) {
        rooms.push(await api(svc, tokens[i - 1]!, 'POST', '/rooms', { name: `Profile room ${i}`, max_participants: 1000, invitees: invitees.filter((u) => u !== userId(i)) }));
      }
      if (name === 'token') {
        return () => ({ method: 'POST', path: `/api/v1/rooms/${pick(rooms).call_id}/token`, headers: { ...auth(1 + Math.floor(Math.random() * HOT_USERS)), 'content-type': 'application/json' }, body: '{}' });
      }
      // Distinct participant_joined events, each sent once (a second send is a duplicate, another path).
      const now = Math.floor(Date.now() / 1000);
      const bodies: Array<{ body: string; sig: string }> = [];
      const run = crypto.randomBytes(4).toString('hex');
      for (let k = 0; k < Number(opt('webhooks', '30000')); k++) {
        const r = rooms[k % rooms.length]!;
        const body = eventJson({ event: 'participant_joined', id: `EV_prof_${run}_${k}`, createdAt: now, room: { name: r.room_name },
          participant: { sid: `PA_prof_${run}_${k}`, identity: `guest-${k}`, joinedAtMs: now * 1000 } });
        bodies.push({ body, sig: await sign(body, LK.key, LK.secret) });
      }
      let w = 0;
      return () => { const b = bodies[w++ % bodies.length]!; return { method: 'POST', path: '/api/v1/webhooks/livekit', headers: { 'content-type': 'application/webhook+json', authorization: b.sig }, body: b.body }; };
    }
    default:
      throw new Error(`unknown scenario ${name}`);
  }
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

// Node's bindings that make a write system call (a socket: HTTP responses, PostgreSQL; a
// file: pino's stdout). The sampler runs on wall time, and a process that wakes its peer
// with a write is often descheduled right there on a loaded machine, so these collect far
// more samples than the CPU they use (/proc's system time says how much that is): apart.
const WRITES = /^(writev|writeUtf8String|writeBuffer|writeString|writeLatin1String|writeUcs2String|writeAsciiString)$/;
const WRITES_AREA = '(write system calls)';

/** Where a function's code lives, as the area it counts toward. */
export function areaOf(url: string, fn: string): string {
  if (!url && WRITES.test(fn)) return WRITES_AREA;
  if (!url) return fn.startsWith('(') ? fn : '(native/builtin)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) {
    if (/^(pino|pino-std-serializers|sonic-boom|fast-redact|@pinojs\/redact|thread-stream|on-exit-leak-free|pino-abstract-transport)$/.test(pkg)) return 'pino / logging';
    if (/^(fastify|find-my-way|avvio|light-my-request|fast-querystring|@fastify\/(error|ajv-compiler|fast-json-stringify-compiler|merge-json-schemas|forwarded|proxy-addr))$/.test(pkg)) return 'fastify core';
    if (/^(fast-json-stringify|secure-json-parse|json-schema-ref-resolver|fast-uri)$/.test(pkg)) return 'JSON (parse/serialize)';
    if (pkg.startsWith('@fastify/')) return `plugin ${pkg}`;
    if (/^(jose|livekit-server-sdk|@bufbuild\/protobuf)$/.test(pkg)) return `jose / auth (${pkg})`;
    if (/^(pg|pg-protocol|pg-pool|pg-types|postgres-array|postgres-date|postgres-interval|postgres-bytea|pg-connection-string)$/.test(pkg)) return 'pg driver';
    if (/^(ajv|ajv-formats)$/.test(pkg)) return 'ajv (validation)';
    return `node_modules/${pkg}`;
  }
  if (url.startsWith('node:')) return /^node:(internal\/)?(_?http|net|stream|dns|url)/.test(url) ? 'node: net/http/streams' : 'node: other internals';
  const src = /\/(src\/.+)$/.exec(url)?.[1];
  return src ?? url;
}

/** Self time (ms) per node id, over the samples taken in [fromUs, toUs] (monotonic clock). */
function selfTimes(p: CpuProfile, fromUs: number, toUs: number): { self: Map<number, number>; windowed: boolean } {
  const pass = (lo: number, hi: number) => {
    const self = new Map<number, number>();
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      const dt = p.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
      if (t >= lo && t <= hi) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt / 1000);
    }
    return self;
  };
  const windowed = pass(fromUs, toUs);
  // The profiler's clock and this process's hrtime are both CLOCK_MONOTONIC on Linux; if
  // not (no sample falls in the window), fall back to the whole profile.
  return windowed.size > 0 ? { self: windowed, windowed: true } : { self: pass(-Infinity, Infinity), windowed: false };
}

function report(p: CpuProfile, fromUs: number, toUs: number, requests: number): string {
  const { self, windowed } = selfTimes(p, fromUs, toUs);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const fns = new Map<string, { ms: number; area: string }>();
  const aside = new Set(['(idle)', '(program)', '(garbage collector)', '(root)', WRITES_AREA]);
  let busy = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    if (aside.has(area)) continue;
    busy += ms;
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    const f = fns.get(key) ?? { ms: 0, area };
    f.ms += ms;
    fns.set(key, f);
  }
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)}%`;
  const perReq = (ms: number) => (requests > 0 ? (ms / requests).toFixed(4) : '?');
  const lines = [`Samples ${windowed ? 'during the measured load' : 'of the whole run (window not found)'}; shares of JavaScript-busy time (${busy.toFixed(0)} ms; idle, (program), GC and write system calls apart).`, '',
    '| area | self ms | share | ms/request |', '|---|---|---|---|'];
  for (const [area, ms] of [...areas].filter(([a]) => !aside.has(a)).sort((a, b) => b[1] - a[1])) lines.push(`| ${area} | ${ms.toFixed(0)} | ${pct(ms)} | ${perReq(ms)} |`);
  for (const a of [WRITES_AREA, '(garbage collector)', '(program)', '(idle)']) lines.push(`| ${a} | ${(areas.get(a) ?? 0).toFixed(0)} | (apart) | ${perReq(areas.get(a) ?? 0)} |`);
  lines.push('', `| top ${TOP} functions by self time | area | share |`, '|---|---|---|');
  for (const [key, f] of [...fns].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP)) lines.push(`| \`${key.replace(/\|/g, '\\|')}\` | ${f.area} | ${pct(f.ms)} |`);
  return lines.join('\n');
}

/** The service's settings for a profile (or an A/B run); `profDir` adds --cpu-prof. */
export function profileEnv(profDir: string | null): Record<string, string> {
  // The schema as bench/run.ts or bench:dataset left it: a profile does not migrate.
  return {
    DATABASE_URL: benchDatabaseUrl(SCALE), WORKERS: '1', LOG_LEVEL: 'info', NODE_ENV: 'development', JOBS_ENABLED: 'false',
    RATE_LIMIT_MAX: '1000000', REDIS_URL: '', LIVEKIT_URL: '', LIVEKIT_API_KEY: LK.key, LIVEKIT_API_SECRET: LK.secret,
    CLAMD_HOST: '', SCAN_ENABLED: 'false', MIGRATE_ON_START: 'false', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-prof-data-')),
    ...(profDir ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim() } : {}),
  };
}

async function main() {
  const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-prof-'));
  const svc = await startService(profileEnv(PROFILE ? profDir : null));
  let from = 0;
  let to = 0;
  let split = '';
  let m: Awaited<ReturnType<typeof cannon>>;
  try {
    const next = await scenario(svc, SCENARIO);
    await cannon(svc, { name: 'warm-up', scale: SCALE, connections: CONNECTIONS, duration: 3, next });
    from = Number(process.hrtime.bigint() / 1000n);
    const [u0, s0] = userSys(svc.child.pid!);
    m = await cannon(svc, { name: SCENARIO, scale: SCALE, connections: CONNECTIONS, duration: SECONDS, next });
    const [u1, s1] = userSys(svc.child.pid!);
    split = `user ${((u1 - u0) / m.requests).toFixed(3)} + system ${((s1 - s0) / m.requests).toFixed(3)}`;
    to = Number(process.hrtime.bigint() / 1000n);
  } finally {
    await svc.stop();
  }
  const out = [`## ${SCENARIO} (${SCALE}, ${CONNECTIONS} connections, ${SECONDS} s${PROFILE ? ', profiled' : ''})`, '',
    `${m.requests} requests, ${m.rps} req/s, p99 ${m.p99_ms} ms, ${m.non2xx} non-2xx, ${m.errors} errors; ` +
    `**service CPU ${m.cpu_ms_per_request} ms/request** (/proc utime+stime: ${split}); load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`, ''];
  if (PROFILE) {
    // One profile per thread (tsx's loader thread too): the main thread's has the most samples.
    const profiles = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(profDir, f), 'utf8')) as CpuProfile)
      .sort((a, b) => b.samples.length - a.samples.length);
    if (!profiles[0]) throw new Error(`no .cpuprofile written in ${profDir}`);
    out.push(report(profiles[0], from, to, m.requests));
    if (args.includes('--keep')) out.push('', `profiles kept in ${profDir}`);
    else fs.rmSync(profDir, { recursive: true, force: true });
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
