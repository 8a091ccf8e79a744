// Prometheus metrics: request latency by route pattern and status, pool stats.
// One registry per app, so several apps in one process (tests) do not collide.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { clusterMetrics, shareMetrics } from '../cluster.ts';
import { REDACTED_HEADERS } from '../context.ts';
import { upstream } from '../errors.ts';

export function createMetrics(pool: pg.Pool): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'auralink_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  shareMetrics(registry);
  return registry;
}

export function instrument(app: FastifyInstance, registry: Registry): void {
  const histogram = new Histogram({
    name: 'auralink_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // The line's fields are four primitives and the request id. The root logger's wildcard
  // redaction ('*.password', '*.token') only ever matches a property of an object value, so
  // it cannot change this line, yet pino runs its redactor over every field of it: 12% of a
  // /liveness request's JavaScript (docs/profiles.md). This child keeps the other paths and
  // drops the wildcard ones; the line is the one request.log wrote (request-log.test.ts).
  const requestLog = app.log.child({}, { redact: { paths: REDACTED_HEADERS, remove: true } });
  // The one log line of a request and its latency sample, in one hook: Fastify's own
  // request logging (a line on arrival and one on completion) is off in app.ts.
  app.addHook('onResponse', (request, reply, done) => {
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    histogram.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: status }, ms / 1000);
    requestLog.info({ reqId: request.id, method: request.method, url: request.url, status, ms: Math.round(ms * 10) / 10 }, 'request');
    done();
  });
  // Under WORKERS>1 the instance's metrics: every worker's, summed by the primary.
  app.get('/metrics', { schema: { hide: true }, config: { skipAuth: true, rateLimit: false } }, async (_req, reply) => {
    const all = clusterMetrics();
    const text = all ? await all.catch(() => Promise.reject(upstream('The metrics of every worker'))) : await registry.metrics();
    reply.type(registry.contentType);
    return text;
  });
}
