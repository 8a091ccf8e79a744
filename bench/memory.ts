// Resident memory of the built service (dist/, as `npm run start:prod` runs it): idle, then
// through a sequence of load scenarios in one process (list calls, get call, contacts), and
// what the process keeps once the load is over, for each configuration given:
//
//   npm run build && node --import tsx bench/memory.ts [--scale 1m] [--duration 10]
//     [--configs "prod,prod MALLOC_ARENA_MAX=2,--max-semi-space-size=8 --max-old-space-size=96"]
//     [--scenarios "list calls,get call,contacts"]
//
// A configuration is node flags and NAME=value environment variables; "prod" stands for
// package.json start:prod's own flags. bench/memprobe.cjs is preloaded and, on SIGUSR2,
// writes what the memory is made of (V8's heap and external memory, the kernel's anonymous
// against file-backed pages), so each row says where the RSS went, not only how much.
// Run it under `flock /tmp/bench.lock`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { benchDatabaseUrl, userId } from './dataset.ts';
import { cannon, startService, tokenFor, type Measured, type Service } from './lib.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : fallback; };
const scale = opt('scale', '1m');
const duration = Number(opt('duration', '10'));
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
const prodFlags = pkg.scripts['start:prod']!.split(/\s+/).filter((a) => a.startsWith('--')).join(' ');
// The built service without start:prod's own node flags: each configuration's come through NODE_OPTIONS.
process.env.BENCH_SERVICE = 'dist';
process.env.BENCH_NODE_FLAGS = 'none';
const probe = path.resolve('bench/memprobe.cjs');

const HOT = 100;
const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => tokenFor(userId(i + 1))));
const auth = (rank: number) => ({ authorization: `Bearer ${tokens[rank - 1]}` });
const db = new pg.Client({ connectionString: benchDatabaseUrl(scale) });
await db.connect();
const { rows: calls } = await db.query<{ rank: number; call_id: string }>(
  `SELECT (right(created_by::text, 12))::int AS rank, call_id FROM calls
    WHERE created_by = ANY($1::uuid[]) AND status = 'ended' ORDER BY call_id LIMIT 2000`,
  [Array.from({ length: HOT }, (_, i) => userId(i + 1))],
);
await db.end();
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
const scenarios: Array<{ name: string; next: () => { path: string; headers: Record<string, string> } }> = [
  { name: 'list calls', next: () => ({ path: '/api/v1/calls?limit=20', headers: auth(1 + Math.floor(Math.random() * 200)) }) },
  { name: 'get call', next: () => { const c = pick(calls); return { path: `/api/v1/calls/${c.call_id}`, headers: auth(c.rank) }; } },
  { name: 'contacts', next: () => ({ path: '/api/v1/contacts?limit=20', headers: auth(1 + Math.floor(Math.random() * 1000)) }) },
];

interface Probe { rss: number; anon: number; file: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; spaces: Record<string, number> }

/** Asks the service what its memory is made of (bench/memprobe.cjs). */
async function sample(svc: Service, file: string, gc = false): Promise<Probe> {
  if (gc) fs.writeFileSync(`${file}.gc`, '');
  else fs.rmSync(`${file}.gc`, { force: true });
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  svc.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length > before) return JSON.parse(lines[lines.length - 1]!) as Probe;
  }
  throw new Error('the memory probe did not answer');
}

const show = (p: Probe) =>
  `${p.rss.toFixed(0)} (anon ${p.anon.toFixed(0)}, file ${p.file.toFixed(0)}; heap ${p.heapUsed.toFixed(0)}/${p.heapTotal.toFixed(0)}, ` +
  `old ${p.spaces.old_space ?? 0}, code ${p.spaces.code_space ?? 0}, new ${p.spaces.new_space ?? 0}; external ${p.external.toFixed(0)}, of it buffers ${p.arrayBuffers.toFixed(0)})`;

console.log(`memory at ${scale}, ${duration} s per scenario at 50 connections; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('RSS MB (anonymous / node binary file pages; V8 heap used/total and its old, code and new spaces; external memory)\n');
for (const config of opt('configs', `prod,prod MALLOC_ARENA_MAX=2`).split(',')) {
  const tokensOf = config.replace(/\bprod\b/, prodFlags).split(/\s+/).filter(Boolean);
  const env = Object.fromEntries(tokensOf.filter((t) => /^[A-Z_]+=/.test(t)).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  // NODE_OPTIONS takes only some V8 flags; the others go through the probe's v8.setFlagsFromString.
  const nodeOptionsOk = (t: string) => /^--(max-old-space-size|max-semi-space-size|stack-trace-limit|max-heap-size)=/.test(t);
  const all = tokensOf.filter((t) => !/^[A-Z_]+=/.test(t));
  const flags = all.filter(nodeOptionsOk).join(' ');
  const v8Flags = all.filter((t) => !nodeOptionsOk(t)).join(' ');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-mem-')), 'probe.jsonl');
  const svc = await startService({
    WORKERS: '1', DATABASE_URL: benchDatabaseUrl(scale), DATABASE_POOL_MAX: '10', JOBS_ENABLED: 'false', MIGRATE_ON_START: 'false',
    RATE_LIMIT_MAX: '1000000', LOG_LEVEL: 'info', NODE_OPTIONS: `--require ${probe} ${flags}`.trim(), AURALINK_MEMPROBE: file, AURALINK_V8_FLAGS: v8Flags, ...env,
  });
  try {
    await sleep(3000);
    console.log(`### ${config}  (NODE_OPTIONS ${flags || '(none)'}${v8Flags ? `, set at start: ${v8Flags}` : ''}${Object.keys(env).length ? `, env ${JSON.stringify(env)}` : ''})`);
    console.log(`- idle: ${show(await sample(svc, file))}`);
    const only = opt('scenarios', scenarios.map((s) => s.name).join(',')).split(',');
    for (const s of scenarios.filter((x) => only.includes(x.name))) {
      const m: Measured = await cannon(svc, { name: s.name, scale, connections: 50, duration, next: s.next });
      console.log(`- ${s.name}: peak ${m.peak_rss_mb} MB, ${m.rps} req/s, ${m.cpu_ms_per_request} ms CPU/request, ${m.non2xx} non-2xx; at its end ${show(await sample(svc, file))}`);
    }
    await sleep(5000);
    console.log(`- 5 s after the load: ${show(await sample(svc, file))}`);
    console.log(`- then after a full GC (what is live): ${show(await sample(svc, file, true))}; VmRSS ${rssMb(svc.child.pid!).toFixed(0)}\n`);
  } finally {
    await svc.stop();
  }
}
