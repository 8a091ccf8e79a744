// CPU per request, read from /proc: utime+stime of a process and its descendants (the
// workers of WORKERS>1) before and after a fixed number of requests. Wall-clock rates
// move with whatever else the machine runs; CPU time per request much less.
//
//   node --import tsx bench/cpu.ts [--requests 20000] [--connections 20]
//     compares /liveness and an authenticated read (GET /users/me) on the service
//     (WORKERS=1, LOG_LEVEL=info: one log line per request) with a bare Fastify route.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { benchDatabaseUrl, userId } from './dataset.ts';
import { freePort, startService, tokenFor } from './lib.ts';

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

export function descendants(pid: number): number[] {
  const out = [pid];
  for (const t of safeList(`/proc/${pid}/task`)) {
    const kids = safeRead(`/proc/${pid}/task/${t}/children`).trim();
    for (const k of kids ? kids.split(/\s+/).map(Number) : []) out.push(...descendants(k));
  }
  return out;
}
const safeList = (p: string) => { try { return fs.readdirSync(p); } catch { return []; } };
const safeRead = (p: string) => { try { return fs.readFileSync(p, 'utf8'); } catch { return ''; } };

/** utime+stime in ms of pid and every process below it. */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of descendants(pid)) {
    const stat = safeRead(`/proc/${p}/stat`);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0); // fields 14 and 15 of stat(5)
  }
  return ticks * TICK_MS;
}

/** Drives `amount` requests and returns the CPU ms per request spent by `pid` (and its workers). */
export async function cpuPerRequest(
  pid: number,
  url: string,
  opts: { amount: number; connections: number; headers?: Record<string, string>; method?: string; body?: string },
): Promise<{ ms: number; rps: number; non2xx: number }> {
  const before = cpuMs(pid);
  const r = await autocannon({ url, amount: opts.amount, connections: opts.connections, headers: opts.headers ?? {}, method: opts.method ?? 'GET', ...(opts.body ? { body: opts.body } : {}) });
  const used = cpuMs(pid) - before;
  return { ms: Math.round((used / r.requests.total) * 1000) / 1000, rps: Math.round(r.requests.average), non2xx: r.non2xx };
}

async function bare(): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare.ts', String(port)], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${base}/liveness`).then((r) => r.ok, () => false)) return { child, base };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('bare server did not start');
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1]! : d);
  const amount = Number(opt('requests', '20000'));
  const connections = Number(opt('connections', '20'));
  const scale = opt('scale', '1m');
  const rows: string[] = [];
  const b = await bare();
  try {
    await cpuPerRequest(b.child.pid!, `${b.base}/liveness`, { amount: 2000, connections }); // warm-up
    const r = await cpuPerRequest(b.child.pid!, `${b.base}/liveness`, { amount, connections });
    rows.push(`| bare Fastify GET /liveness | ${r.ms} | ${r.rps} |`);
  } finally {
    b.child.kill('SIGTERM');
  }
  const svc = await startService({
    DATABASE_URL: benchDatabaseUrl(scale), LOG_LEVEL: opt('log-level', 'info'), NODE_ENV: 'development', JOBS_ENABLED: 'false',
    RATE_LIMIT_MAX: '1000000', REDIS_URL: '', LIVEKIT_URL: '', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-cpu-')), WORKERS: '1',
  });
  try {
    const pid = svc.child.pid!;
    const auth = { authorization: `Bearer ${await tokenFor(userId(1))}` };
    for (const [name, url, headers] of [
      ['service GET /liveness', `${svc.base}/liveness`, {}],
      ['service GET /api/v1/users/me', `${svc.base}/api/v1/users/me`, auth],
    ] as const) {
      await cpuPerRequest(pid, url, { amount: 2000, connections, headers });
      const r = await cpuPerRequest(pid, url, { amount, connections, headers });
      rows.push(`| ${name} | ${r.ms} | ${r.rps} |${r.non2xx ? ` ${r.non2xx} non-2xx` : ''}`);
    }
  } finally {
    await svc.stop();
  }
  process.stdout.write(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${amount} requests, ${connections} connections\n| request | CPU ms/request | req/s |\n|---|---|---|\n${rows.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
