// WORKERS=2: one real service process (a primary and two workers on one port) on
// PostgreSQL and Redis. Which worker served a request is read from its log line (pino
// writes the pid on every line; the request id is ours), so nothing is added to the
// responses. Connections are fresh per request: the cluster hands out connections,
// not requests.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { devToken } from '../src/cli/dev-token.ts';
import { planWorkers } from '../src/cluster.ts';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/db.ts';
import { eventually, startInstance, type Instance } from './helpers/instances.ts';
import { serviceSkip, tcpReachable, urlHostPort } from './helpers/services.ts';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await tcpReachable(urlHostPort(redisUrl, 6379).host, urlHostPort(redisUrl, 6379).port);
const skip =
  (await serviceSkip('Redis', redisUp, redisUrl)) ||
  (await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL'));

describe('planWorkers', () => {
  const base = { workers: 'auto' as const, database: { url: 'postgres://x/y' }, rateLimit: { redisUrl: 'redis://r' } };
  const plan = (c: object, cores = 4) => planWorkers({ ...base, ...c } as Parameters<typeof planWorkers>[0], cores);
  it('auto is the available cores on PostgreSQL with Redis', () => {
    assert.deepEqual(plan({}), { count: 4, warnings: [] });
    assert.deepEqual(plan({ workers: 3 }), { count: 3, warnings: [] });
    assert.deepEqual(plan({ workers: 1 }), { count: 1, warnings: [] });
  });
  it('is one process on the embedded database, or without Redis, and says why', () => {
    const embedded = plan({ database: { url: null } });
    assert.equal(embedded.count, 1);
    assert.match(embedded.warnings[0]!, /WORKERS=auto \(4 cores\) ignored: the embedded database/);
    const noRedis = plan({ workers: 2, rateLimit: { redisUrl: null } });
    assert.equal(noRedis.count, 1);
    assert.match(noRedis.warnings[0]!, /WORKERS=2 ignored: .*REDIS_URL/);
    assert.deepEqual(plan({ workers: 1, database: { url: null } }), { count: 1, warnings: [] });
  });
});

interface Line {
  pid: number;
  reqId?: string;
  msg: string;
  status?: number;
}

describe('WORKERS=2 on PostgreSQL and Redis', { skip, timeout: 480_000 }, () => {
  const RATE_LIMIT = 20;
  let database: TestDatabase;
  let inst: Instance;
  const lines: Line[] = [];
  let partial = '';
  const run = crypto.randomBytes(3).toString('hex'); // Redis is shared with other tests
  const token = (n: string) => devToken(DEV_JWT_SECRET, `${n}${run}`);

  /** One request on its own connection; resolves with its status and the pid that served it. */
  const request = async (method: string, path: string, opts: { user?: string; body?: object } = {}) => {
    const id = `w-${crypto.randomUUID()}`;
    const body = opts.body ? JSON.stringify(opts.body) : undefined;
    const headers: Record<string, string> = { 'x-request-id': id };
    if (opts.user) headers.authorization = `Bearer ${await token(opts.user)}`;
    if (body) headers['content-type'] = 'application/json';
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${inst.base}${path}`, { method, headers, agent: false }, (r) => {
        let text = '';
        r.on('data', (d) => (text += d));
        r.on('end', () => resolve({ status: r.statusCode!, text }));
      });
      req.on('error', reject);
      // A connection the primary handed to a worker as it was killed is never answered.
      req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
      req.end(body);
    });
    const line = await eventually(async () => lines.find((l) => l.reqId === id && l.msg === 'request'), 5000, `log line of ${id}`);
    return { ...res, pid: line!.pid, json: res.text.startsWith('{') ? JSON.parse(res.text) : null };
  };

  before(async () => {
    database = await createTestDatabase('postgres');
    inst = await startInstance(
      {
        DATABASE_URL: database.url!,
        REDIS_URL: redisUrl,
        WORKERS: '2',
        LOG_LEVEL: 'info',
        MIGRATE_ON_START: 'false',
        JOBS_ENABLED: 'true',
        RATE_LIMIT_MAX: String(RATE_LIMIT),
        RATE_LIMIT_WINDOW_MS: '60000',
      },
      {
        timeoutMs: 150_000, // three processes starting on a machine that other tests keep busy
        onOutput: (chunk) => {
          const parts = (partial + chunk).split('\n');
          partial = parts.pop()!;
          for (const p of parts) {
            try {
              lines.push(JSON.parse(p) as Line);
            } catch {
              // not a log line (a start-up message)
            }
          }
        },
      },
    );
  });

  after(async () => {
    await inst?.kill();
    await database?.cleanup();
  });

  /** Pids that served n requests; a connection reset by a dying worker is not counted. */
  const servingPids = async (n: number) => {
    const pids = new Set<number>();
    for (let i = 0; i < n; i++) {
      const r = await request('GET', '/health').catch(() => null);
      if (r) pids.add(r.pid);
    }
    return pids;
  };

  it('serves requests from two worker processes, and starts the jobs in one of them', async () => {
    const pids = await servingPids(8);
    assert.equal(pids.size, 2, [...pids].join(','));
    assert.ok(!pids.has(inst.child.pid!), 'the primary serves nothing');
    const jobs = new Set(lines.filter((l) => l.msg === 'background jobs started in this process').map((l) => l.pid));
    assert.equal(jobs.size, 1);
    assert.ok(pids.has([...jobs][0]!));
  });

  it('shares one rate-limit budget across the workers', async () => {
    const results = [];
    for (let i = 0; i < RATE_LIMIT + 5; i++) results.push(await request('GET', '/api/v1/users/me', { user: 'carol' }));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, RATE_LIMIT, results.map((r) => r.status).join(','));
    assert.equal(results.filter((r) => r.status === 429).length, 5);
    assert.equal(new Set(ok.map((r) => r.pid)).size, 2, 'both workers spent the same budget');
  });

  it('delivers an event caused through one worker to subscribers on the other', async () => {
    assert.equal((await request('GET', '/api/v1/users/me', { user: 'alice' })).status, 200);
    const auth = `Bearer ${await token('alice')}`;
    // Each subscriber: a probe then the stream on one kept-alive socket, so the probe's
    // log line names the worker that holds the stream.
    const subscribers = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const probe = `p-${crypto.randomUUID()}`;
        await new Promise<void>((resolve, reject) =>
          http
            .get(`${inst.base}/health`, { agent, headers: { 'x-request-id': probe } }, (r) => r.resume().on('end', resolve))
            .on('error', reject),
        );
        const pid = (await eventually(async () => lines.find((l) => l.reqId === probe), 5000, 'probe line'))!.pid;
        let data = '';
        const req = http.get(`${inst.base}/api/v1/events`, { agent, headers: { authorization: auth, accept: 'text/event-stream' } }, (r) => {
          assert.equal(r.statusCode, 200);
          r.on('data', (d) => (data += d));
        });
        req.on('error', () => undefined);
        return { pid, data: () => data, close: () => (req.destroy(), agent.destroy()) };
      }),
    );
    try {
      await new Promise((r) => setTimeout(r, 500)); // let the subscriptions settle
      const room = await request('POST', '/api/v1/rooms', { user: 'alice', body: { name: 'Across workers' } });
      assert.equal(room.status, 201, room.text);
      const others = subscribers.filter((s) => s.pid !== room.pid);
      assert.ok(others.length > 0, 'a subscriber is on the worker that did not create the room');
      for (const s of subscribers) {
        await eventually(async () => s.data().includes(room.json.call_id), 10_000, `event on worker ${s.pid}`);
      }
    } finally {
      for (const s of subscribers) s.close();
    }
  });

  it('reports the metrics of every worker on /metrics, whichever worker answers', async () => {
    const count = async () => {
      const m = await request('GET', '/metrics');
      assert.equal(m.status, 200, m.text);
      const line = m.text.split('\n').find((l) => /^auralink_http_request_duration_seconds_count\{[^}]*route="\/liveness"[^}]*status_code="200"/.test(l));
      return { n: line ? Number(line.split(' ').pop()) : 0, pid: m.pid };
    };
    const before = await count();
    const served = new Map<number, number>();
    for (let i = 0; i < 10; i++) {
      const r = await request('GET', '/liveness');
      served.set(r.pid, (served.get(r.pid) ?? 0) + 1);
    }
    assert.equal(served.size, 2, 'both workers served /liveness');
    // Two scrapes: each reaches a worker that served only part of the ten requests.
    for (const after of [await count(), await count()]) assert.equal(after.n - before.n, 10, `scrape by ${after.pid}`);
  });

  it('restarts a worker that dies', async () => {
    const before = await servingPids(6);
    const victim = [...before][0]!;
    const restarts = lines.filter((l) => l.msg === 'worker died; restarting').length;
    const killedAt = lines.length;
    process.kill(victim, 'SIGKILL');
    // Requests on fresh connections until two workers other than the victim have served.
    const after = await eventually(
      async () => {
        await Promise.all([0, 1, 2, 3].map(() => request('GET', '/health').catch(() => null)));
        const pids = new Set(lines.slice(killedAt).filter((l) => l.msg === 'request').map((l) => l.pid));
        return pids.size === 2 && !pids.has(victim) ? pids : null;
      },
      150_000, // a worker's start (tsx, migrations check, connections) is slow on a busy machine
      'a replacement worker serving',
    );
    assert.equal(lines.filter((l) => l.msg === 'worker died; restarting').length, restarts + 1);
    assert.equal(after!.size, 2);
  });

  it('drains every worker on SIGTERM to the primary and exits 0', async () => {
    const workers = await servingPids(6);
    await inst.stop();
    assert.equal(inst.child.exitCode, 0, inst.output());
    const stopped = new Set(lines.filter((l) => l.msg === 'stopped').map((l) => l.pid));
    for (const pid of workers) assert.ok(stopped.has(pid), `worker ${pid} stopped cleanly`);
    assert.ok(lines.some((l) => l.msg === 'all workers stopped' && l.pid === inst.child.pid));
  });
});
