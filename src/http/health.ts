// Liveness (the process answers), readiness (each dependency, with its own status).
import type { FastifyInstance } from 'fastify';

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
    return { status: 'down', message: (err as Error).message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, checks: Map<string, ReadinessCheck>, required: Set<string>): void {
  const opts = { config: { skipAuth: true, rateLimit: false }, schema: { tags: ['health'] } } as const;
  app.get('/health', opts, async () => ({ status: 'ok' }));
  app.get('/liveness', opts, async () => ({ status: 'ok' }));
  app.get('/readiness', opts, async (_req, reply) => {
    const entries = await Promise.all([...checks].map(async ([name, check]) => [name, await check()] as const));
    const results = Object.fromEntries(entries);
    const down = entries.filter(([, r]) => r.status === 'down').map(([n]) => n);
    // The database is required; an optional dependency being down only degrades.
    const status = down.some((n) => required.has(n)) ? 'down' : down.length > 0 ? 'degraded' : 'ok';
    reply.code(status === 'down' ? 503 : 200);
    return { status, checks: results };
  });
}
