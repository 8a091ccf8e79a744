// TEST_WORKERS=auto|N: the integration tests' requests go to the real service running as N
// workers (node:cluster, `WORKERS=N`) on the test file's PostgreSQL database, over HTTP on a
// fresh connection each, so consecutive requests land on different workers. The test keeps
// its in-process context (ctx) on the same database for what it seeds and inspects;
// only `app.inject` and `app.listen` change: `inject` sends the request it describes to the
// cluster and answers with the same fields light-my-request gives (statusCode, headers,
// body, payload, rawPayload, json()); `listen` returns the cluster's address.
import http from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { startInstance, type Instance } from './instances.ts';

/** The WORKERS value the suite runs the service with, or null (in process). */
export function testWorkers(): string | null {
  const v = process.env.TEST_WORKERS?.trim();
  return v ? v : null;
}

interface InjectLike {
  method?: string;
  url?: string;
  path?: string;
  query?: Record<string, string | number | boolean | string[]> | string;
  headers?: Record<string, string | string[] | number | undefined>;
  payload?: unknown;
  body?: unknown;
  remoteAddress?: string;
}

export interface InjectResponse {
  statusCode: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  rawPayload: Buffer;
  payload: string;
  body: string;
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const SUPPORTED = new Set(['method', 'url', 'path', 'query', 'headers', 'payload', 'body', 'remoteAddress']);

function target(o: InjectLike): string {
  // Parsed as light-my-request parses it (WHATWG URL): what a test writes unescaped goes
  // out percent-encoded, as it reaches the app under inject().
  const u = new URL(o.url ?? o.path ?? '/', 'http://localhost');
  if (typeof o.query === 'string') new URLSearchParams(o.query).forEach((v, k) => u.searchParams.append(k, v));
  else if (o.query) {
    for (const [k, v] of Object.entries(o.query)) for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(one));
  }
  return u.pathname + u.search;
}

/** Sends what an inject() call describes to `base`, one request on its own connection. */
export function httpInject(base: string) {
  const { hostname, port } = new URL(base);
  return async (opts: InjectLike | string): Promise<InjectResponse> => {
    const o: InjectLike = typeof opts === 'string' ? { url: opts } : opts;
    const unsupported = Object.keys(o).filter((k) => !SUPPORTED.has(k));
    if (unsupported.length > 0) throw new Error(`TEST_WORKERS: inject option(s) ${unsupported.join(', ')} not supported over HTTP`);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = typeof v === 'number' ? String(v) : v;
    // As light-my-request does: the Host it sends, JSON for an object payload.
    headers.host ??= 'localhost:80';
    headers['user-agent'] ??= 'lightMyRequest';
    // The client address the test asks for, through the proxy header the cluster trusts.
    if (o.remoteAddress) headers['x-forwarded-for'] = o.remoteAddress;
    let payload = o.payload ?? o.body;
    if (payload !== undefined && payload !== null && typeof payload !== 'string' && !Buffer.isBuffer(payload) && !(payload instanceof Readable)) {
      payload = JSON.stringify(payload);
      headers['content-type'] ??= 'application/json';
    }
    if ((typeof payload === 'string' || Buffer.isBuffer(payload)) && headers['transfer-encoding'] === undefined) {
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise<InjectResponse>((resolve, reject) => {
      const req = http.request(
        { host: hostname, port: Number(port), method: (o.method ?? 'GET').toUpperCase(), path: target(o), headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const rawPayload = Buffer.concat(chunks);
            const text = rawPayload.toString('utf8');
            resolve({
              statusCode: res.statusCode ?? 0,
              statusMessage: res.statusMessage ?? '',
              headers: res.headers,
              rawPayload,
              payload: text,
              body: text,
              json: () => JSON.parse(text),
            });
          });
        },
      );
      req.on('error', reject);
      if (payload instanceof Readable) payload.pipe(req);
      else req.end(payload as string | Buffer | undefined);
    });
  };
}

/**
 * Starts the service with WORKERS=`workers` on `databaseUrl` with the test's own settings,
 * and points `app.inject`/`app.listen` at it. Returns the running instance (stop it on close).
 */
export async function serveFromWorkers(
  app: FastifyInstance,
  workers: string,
  env: Record<string, string>,
  databaseUrl: string,
  port?: number,
): Promise<Instance> {
  const inst = await startInstance(
    {
      ...env,
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      WORKERS: workers,
      // More than one worker shares rate-limit budgets through Redis; each test app keeps
      // budgets of its own there (test files run side by side with the same user names).
      REDIS_URL: env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      // Apps on one database share budgets (as instances of one deployment do); apps on
      // other test files' databases do not.
      RATE_LIMIT_REDIS_PREFIX: `auralink-test-${new URL(databaseUrl).pathname.slice(1)}:`,
      // inject's remoteAddress arrives as X-Forwarded-For from the loopback.
      TRUST_PROXY: env.TRUST_PROXY ?? 'true',
    },
    { ...(port ? { port } : {}), timeoutMs: 90_000 },
  );
  // A test process that ends (or fails) without close() must not wait for, or leave, it.
  inst.child.unref();
  for (const s of [inst.child.stdout, inst.child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  const killOnExit = () => inst.child.kill('SIGKILL');
  process.once('exit', killOnExit);
  inst.child.once('exit', () => process.off('exit', killOnExit));
  const mutable = app as unknown as { inject: unknown; listen: unknown };
  mutable.inject = httpInject(inst.base);
  mutable.listen = async (o?: { port?: number }) => {
    if (o?.port && o.port !== inst.port) throw new Error(`TEST_WORKERS: the cluster listens on ${inst.port}; pass { port: ${o.port} } to startTestApp`);
    return inst.base;
  };
  return inst;
}
