// Liveness (the process answers), readiness (each dependency, with its own status).
// Readiness is 503 when a dependency that requests need is down, so a load balancer
// stops sending traffic this instance cannot serve; an optional one only degrades it.
import type { FastifyInstance } from 'fastify';
import { ReadinessReport, StatusOk } from './schemas.ts';

export interface CheckResult {
  status: 'ok' | 'down' | 'not_configured';
  latency_ms?: number;
  message?: string;
}
export type ReadinessCheck = () => Promise<CheckResult>;

/** Times a probe; a throw or a slow answer is "down" with the reason. */
export async function probe(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok', latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    // /readiness is public, and LiveKit quotes the token it refused: never echo one.
    const message = (err as Error).message.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<token>');
    return { status: 'down', message: message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

/** The body of /readiness (its schema for the OpenAPI document is ReadinessReport in schemas.ts). */
export interface ReadinessBody {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, CheckResult & { required: boolean }>;
}

/** Runs every check at once; `required` names the checks whose failure makes the instance not ready. */
export async function readiness(checks: Map<string, ReadinessCheck>, required: Set<string>): Promise<ReadinessBody> {
  const entries = await Promise.all(
    [...checks].map(async ([name, check]) => [name, { ...(await check()), required: required.has(name) }] as const),
  );
  const down = entries.filter(([, r]) => r.status === 'down');
  const status = down.some(([, r]) => r.required) ? 'down' : down.length > 0 ? 'degraded' : 'ok';
  return { status, checks: Object.fromEntries(entries) };
}

export function healthRoutes(app: FastifyInstance, checks: Map<string, ReadinessCheck>, required: Set<string>): void {
  const config = { skipAuth: true, rateLimit: false };
  const tags = ['health'];
  const ok = { 200: StatusOk };
  app.get('/health', { config, schema: { tags, summary: 'The process answers', response: ok } }, async () => ({ status: 'ok' }));
  const liveness = { tags, summary: 'Liveness probe: the process answers (no dependency is checked)', response: ok };
  app.get('/liveness', { config, schema: liveness }, async () => ({ status: 'ok' }));
  const ready = {
    tags,
    summary: 'Readiness probe: each dependency with its status',
    description: '503 when a required dependency (database; storage and LiveKit when configured) is down.',
    response: {
      200: { ...ReadinessReport, description: 'ok, or degraded (an optional dependency is down)' },
      503: { ...ReadinessReport, description: 'down: a required dependency is down' },
    },
  };
  app.get('/readiness', { config, schema: ready }, async (_req, reply) => {
    const report = await readiness(checks, required);
    reply.code(report.status === 'down' ? 503 : 200);
    return report;
  });
}
