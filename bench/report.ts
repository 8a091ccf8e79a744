// The benchmark report: the performance targets (issue 13's, and the operator
// scenarios' of issue 12) checked against one run's numbers, and the markdown table
// `npm run bench` prints.
import type { Measured } from './lib.ts';

export interface Target {
  target: string;
  measured: string;
  met: boolean | null; // null: not measured in this run
}

const find = (rs: Measured[], scenario: string, scale?: string) =>
  rs.find((r) => r.scenario === scenario && (scale === undefined || r.scale === scale));

export function evaluateTargets(rs: Measured[], scales: string[]): Target[] {
  const out: Target[] = [];
  const big = scales.includes('1m') ? '1m' : scales[scales.length - 1]!;
  const svc = find(rs, 'list calls (first page)', big);
  const raw = find(rs, 'pgbench: list calls (first page)', big);
  if (svc && raw) {
    const failed = svc.non2xx + svc.errors;
    const ratio = raw.rps > 0 ? svc.rps / raw.rps : NaN;
    out.push({
      target: `list calls on ${big} calls: >= 70% of raw SQL throughput, p99 < 50 ms at ${svc.connections} clients`,
      measured:
        raw.rps > 0
          ? `${(ratio * 100).toFixed(0)}% (${svc.rps} vs ${raw.rps} req/s), p99 ${svc.p99_ms} ms, ${failed} failed`
          : `raw SQL itself did not complete (${raw.note ?? 'pgbench failed'}); service ${svc.rps} req/s, ${failed} of ${svc.requests} failed`,
      met: raw.rps > 0 && failed === 0 && ratio >= 0.7 && svc.p99_ms < 50,
    });
  }
  // WORKERS=auto where the comparison ran, else the single-process scenario.
  const auto = (name: string) => find(rs, `${name} [WORKERS=auto]`) ?? find(rs, name);
  const contacts = auto('contacts list');
  if (contacts) {
    out.push({ target: `contacts list at 200k contacts >= 2,000 req/s (${contacts.scenario})`, measured: `${contacts.rps} req/s, p99 ${contacts.p99_ms} ms`, met: contacts.rps >= 2000 && contacts.non2xx + contacts.errors === 0 });
  }
  const get = auto('get call');
  if (get) {
    out.push({ target: `get call p99 < 50 ms at ${get.connections} connections (${get.scenario}, ${get.scale})`, measured: `p99 ${get.p99_ms} ms, ${get.rps} req/s`, met: get.p99_ms < 50 && get.non2xx + get.errors === 0 });
  }
  const atBig = rs.filter((r) => r.scale === big && r.peak_rss_mb !== null && !r.scenario.startsWith('100 MB'));
  if (atBig.length > 0) {
    const worst = atBig.reduce((a, b) => ((b.peak_rss_mb ?? 0) > (a.peak_rss_mb ?? 0) ? b : a));
    out.push({ target: `RSS <= 150 MB per process under load at ${big} calls`, measured: `${worst.peak_rss_mb} MB peak (${worst.scenario})`, met: (worst.peak_rss_mb ?? Infinity) <= 150 });
  }
  const small = find(rs, 'list calls (first page)', scales[0]);
  const large = find(rs, 'list calls (first page)', scales[scales.length - 1]);
  if (small && large && scales.length > 1) {
    const growth = large.p50_ms / small.p50_ms - 1;
    const growth99 = large.p99_ms / small.p99_ms - 1;
    out.push({
      target: `list-calls latency within 25% from 10k to 10M calls (run: ${scales[0]} -> ${scales[scales.length - 1]})`,
      measured: `${small.non2xx + large.non2xx + small.errors + large.errors > 0 ? 'requests failed (timeouts), so not comparable: ' : ''}p50 ${small.p50_ms} -> ${large.p50_ms} ms (${pct(growth)}), p99 ${small.p99_ms} -> ${large.p99_ms} ms (${pct(growth99)})${scales.includes('10m') ? '' : '; 10M not run'}`,
      // Latencies of failed requests (timeouts) say nothing about scaling.
      met: small.non2xx + large.non2xx + small.errors + large.errors === 0 ? growth <= 0.25 : false,
    });
  }
  const tok = auto('token minting');
  if (tok) out.push({ target: `token minting >= 3,000/s (${tok.scenario})`, measured: `${tok.rps}/s, p99 ${tok.p99_ms} ms`, met: tok.rps >= 3000 });
  const wh = find(rs, 'signed webhook ingestion') as (Measured & { lost?: number }) | undefined;
  if (wh) {
    out.push({
      target: 'webhook ingestion >= 1,000 events/s, none lost',
      measured: `${wh.rps}/s, ${wh.lost ?? '?'} lost (${wh.note ?? ''})`,
      met: wh.rps >= 1000 && wh.lost === 0 && wh.non2xx === 0,
    });
  }
  for (const name of ['admin: usage, 30 days', 'admin: usage, 30 days to now', 'admin: worst quality, 30 days', 'admin: live rooms']) {
    const r = find(rs, name);
    if (!r) continue;
    const failed = r.non2xx + r.errors;
    out.push({
      target: `${name} on ${r.scale}: p99 < 200 ms at ${r.connections} clients`,
      measured: `p99 ${r.p99_ms} ms, p50 ${r.p50_ms} ms, ${r.rps} req/s, ${failed} failed`,
      met: failed === 0 && r.p99_ms < 200,
    });
  }
  const up = find(rs, '100 MB upload (service -> S3)');
  if (up) {
    const ratio = Number(/ratio ([\d.]+)/.exec(up.note ?? '')?.[1] ?? NaN);
    out.push({ target: 'memory growth during a 100 MB upload <= 64 MB', measured: `${up.rss_growth_mb} MB RSS`, met: up.rss_growth_mb !== null && up.rss_growth_mb <= 64 });
    out.push({ target: 'upload throughput >= 70% of direct S3', measured: `${(ratio * 100).toFixed(0)}%`, met: ratio >= 0.7 });
  }
  return out;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;

export function markdown(report: {
  started_at: string;
  machine: { cpus: number; cpu: string; memory_gb: number; loadavg_at_start: number[]; node: string; postgres: string };
  settings: { duration_s: number; connections: number; db_pool: number; scales: string[]; postgres_via?: string; service?: string };
  results: Measured[];
  targets: Target[];
}): string {
  const m = report.machine;
  const lines = [
    `### AuraLink benchmark, ${report.started_at}`,
    '',
    `Machine: ${m.cpus} x ${m.cpu}, ${m.memory_gb} GB, load average at start ${m.loadavg_at_start.map((x) => x.toFixed(1)).join(' ')}; Node ${m.node}, PostgreSQL ${m.postgres}.`,
    `Scales run: ${report.settings.scales.join(', ')}. ${report.settings.duration_s} s per scenario, ${report.settings.connections} HTTP connections, database pool ${report.settings.db_pool} (pgbench uses as many connections, prepared mode); PostgreSQL over ${report.settings.postgres_via ?? 'tcp'}.${report.settings.service ? ` Service: ${report.settings.service}.` : ''}`,
    '',
    '| Scenario | Calls | Conns | Requests | Req/s | p50 ms | p99 ms | Errors/non-2xx | Server peak RSS MB (growth) | CPU ms/req | Notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.results.map(
      (r) =>
        `| ${r.scenario} | ${r.scale} | ${r.connections} | ${r.requests} | ${r.rps || '-'} | ${r.p50_ms} | ${r.p99_ms} | ${r.errors}/${r.non2xx} | ${r.peak_rss_mb ?? '-'}${r.rss_growth_mb !== null ? ` (+${r.rss_growth_mb})` : ''} | ${r.cpu_ms_per_request ?? '-'} | ${r.note ?? ''} |`,
    ),
    '',
    '| Target | Measured | Met |',
    '|---|---|---|',
    ...report.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`),
    '',
  ];
  return lines.join('\n');
}
