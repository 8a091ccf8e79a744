// Pieces of the benchmark runner: the service as a child process with its RSS
// sampled from /proc, autocannon scenarios, pgbench baselines, percentiles.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { cpuMs, descendants } from './cpu.ts';

export interface Measured {
  scenario: string;
  scale: string;
  connections: number;
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
  peak_rss_mb: number | null;
  rss_growth_mb: number | null;
  /** Service CPU (utime+stime of the process and its workers, from /proc) per request. */
  cpu_ms_per_request?: number;
  note?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Service-side memory: VmRSS of the child from /proc, sampled every 50 ms. */
export class RssSampler {
  private peak = 0;
  private base = 0;
  private timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, this.read())), 50);
    this.timer.unref();
  }
  /** The largest RSS of the process and its workers (the targets are per process). */
  read(): number {
    let max = 0;
    for (const pid of descendants(this.pid)) {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        max = Math.max(max, m ? Number(m[1]) * 1024 : 0);
      } catch {
        // gone between the listing and the read
      }
    }
    return max;
  }
  reset(): void {
    this.base = this.read();
    this.peak = this.base;
  }
  result() {
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
    return { peak_rss_mb: mb(this.peak), rss_growth_mb: mb(this.peak - this.base) };
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

export interface Service {
  base: string;
  child: ChildProcess;
  rss: RssSampler;
  stop(): Promise<void>;
}

/** `node --import tsx src/main.ts` with the given env; resolves once /health answers. */
/**
 * The service as production runs it when BENCH_SERVICE is `dist`: the built artifact
 * (`npm run build`) with the node flags of package.json's start:prod; else the sources
 * through tsx, whose loader adds memory and start-up time of its own.
 */
export function serviceCommand(): string[] {
  if (process.env.BENCH_SERVICE !== 'dist') return ['--import', 'tsx', 'src/main.ts'];
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  const [node, ...args] = pkg.scripts['start:prod']!.split(/\s+/);
  if (node !== 'node') throw new Error(`start:prod does not start with node: ${pkg.scripts['start:prod']}`);
  // bench/memory.ts compares node flags of its own (through NODE_OPTIONS).
  return process.env.BENCH_NODE_FLAGS === 'none' ? args.filter((a) => !a.startsWith('--')) : args;
}

export async function startService(env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, serviceCommand(), {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`service did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const rss = new RssSampler(child.pid!);
  return {
    base,
    child,
    rss,
    async stop() {
      rss.stop();
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An access token for a bench user, signed like Supabase's (development secret). */
export function tokenFor(userId: string): Promise<string> {
  return new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 6 * 3600)
    .sign(new TextEncoder().encode(DEV_JWT_SECRET));
}

export interface Shot {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Runs autocannon with a request generator; each request is next() of the generator. */
export async function cannon(
  svc: Service,
  opts: { name: string; scale: string; connections: number; duration?: number; amount?: number; next: () => Shot; note?: string },
): Promise<Measured> {
  svc.rss.reset();
  const cpuBefore = cpuMs(svc.child.pid!);
  const result = await autocannon({
    url: svc.base,
    connections: opts.connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? 10 }),
    timeout: 30,
    requests: [
      {
        setupRequest: (req: Record<string, unknown>) => {
          const s = opts.next();
          return { ...req, method: s.method ?? 'GET', path: s.path, headers: s.headers ?? {}, body: s.body };
        },
      },
    ],
  });
  return {
    scenario: opts.name,
    scale: opts.scale,
    connections: opts.connections,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    ...svc.rss.result(),
    cpu_ms_per_request: result.requests.total > 0 ? Math.round(((cpuMs(svc.child.pid!) - cpuBefore) / result.requests.total) * 1000) / 1000 : undefined,
    ...(opts.note ? { note: opts.note } : {}),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** pgbench with a custom script; latencies from its per-transaction log. */
export async function pgbench(opts: { url: string; script: string; clients: number; seconds: number; name: string; scale: string }): Promise<Measured> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-pgbench-'));
  const file = path.join(dir, 'script.sql');
  fs.writeFileSync(file, opts.script);
  const u = new URL(opts.url);
  const args = ['-n', '-M', 'prepared', '-f', file, '-c', String(opts.clients), '-j', '2', '-T', String(opts.seconds),
    '-l', `--log-prefix=${path.join(dir, 'log')}`, '-h', u.searchParams.get('host') ?? u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'),
    u.pathname.slice(1)];
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.stderr.on('data', (d) => (text += d));
    p.on('error', reject);
    // Exit 2 with "aborted" is a run whose clients hit errors (e.g. statement timeouts):
    // a result to report, not a crash of the harness.
    p.on('exit', (code) => (code === 0 || /aborted/.test(text) ? resolve(text) : reject(new Error(`pgbench exited ${code}: ${text}`))));
  });
  const lat: number[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('log'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const us = Number(line.split(' ')[2]);
      if (Number.isFinite(us) && line) lat.push(us / 1000);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? NaN);
  const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0) + (out.match(/client \d+ script \d+ aborted/g)?.length ?? 0);
  const timeouts = /statement timeout/.test(out);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    scenario: opts.name,
    scale: opts.scale,
    connections: opts.clients,
    requests: lat.length,
    rps: Number.isFinite(tps) ? Math.round(tps) : 0,
    p50_ms: round(percentile(lat, 50)),
    p99_ms: round(percentile(lat, 99)),
    errors: failed,
    non2xx: 0,
    peak_rss_mb: null,
    rss_growth_mb: null,
    ...(timeouts ? { note: 'clients aborted on statement timeout (15 s)' } : {}),
  };
}
