// Resident memory of the built service (dist/, as `npm run start:prod` runs it) idle and
// under the list-calls scenario, for a few V8 young-generation sizes:
//
//   npm run build && node --import tsx bench/memory.ts [--scale 1m] [--flags "default,--max-semi-space-size=8"]
import fs from 'node:fs';
import { benchDatabaseUrl, userId } from './dataset.ts';
import { cannon, startService, tokenFor } from './lib.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : fallback; };
const scale = opt('scale', '1m');
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
// The built service without start:prod's own node flags: each run's come through NODE_OPTIONS.
process.env.BENCH_SERVICE = 'dist';
process.env.BENCH_NODE_FLAGS = 'none';
const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => tokenFor(userId(i + 1))));

console.log('| node flags | idle RSS MB | peak RSS MB under list load | req/s | CPU ms/req |\n|---|---|---|---|---|');
for (const flags of opt('flags', 'default,--max-semi-space-size=16,--max-semi-space-size=8,--max-semi-space-size=4').split(',')) {
  const svc = await startService({
    WORKERS: '1', DATABASE_URL: benchDatabaseUrl(scale), DATABASE_POOL_MAX: '10', JOBS_ENABLED: 'false',
    RATE_LIMIT_MAX: '1000000', LOG_LEVEL: 'info', NODE_OPTIONS: flags === 'default' ? '' : flags,
  });
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const idle = rssMb(svc.child.pid!);
    const m = await cannon(svc, { name: 'list calls', scale, connections: 50, duration: 10,
      next: () => ({ path: '/api/v1/calls?limit=20', headers: { authorization: `Bearer ${tokens[Math.floor(Math.random() * tokens.length)]}` } }) });
    console.log(`| ${flags} | ${idle.toFixed(0)} | ${m.peak_rss_mb} | ${m.rps} | ${m.cpu_ms_per_request} |`);
  } finally {
    await svc.stop();
  }
}
