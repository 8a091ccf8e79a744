// WORKERS: the HTTP server in N processes (node:cluster) sharing one port, so that the
// JavaScript of requests uses every core. The primary only supervises: it forks the
// workers, restarts one that dies (with a backoff, so a crash loop does not spin), and
// on SIGTERM/SIGINT asks each to drain and exits once all have stopped.
//
// What keeps N workers correct is what keeps N instances correct (docs/architecture.md):
// live events fan out through each worker's own LISTEN connection; rate-limit budgets
// live in Redis, which is why more than one worker needs REDIS_URL (an in-memory budget
// per worker would multiply every user's budget by N); jobs take advisory locks or
// SKIP LOCKED rows, and only worker 0 starts them at all, so N workers do not poll N
// times for nothing. The embedded database is one backend in one process: one worker.
// /metrics, answered by whichever worker the connection reached, reports every worker's
// metrics summed by the primary (prom-client's AggregatorRegistry), so a scrape sees the
// instance, not one worker's share of it.
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from './config.ts';

export interface WorkerPlan {
  count: number;
  /** Why fewer workers run than were asked for, for the start-up log. */
  warnings: string[];
}

/** How many workers to run: WORKERS as asked, narrowed to what the deployment can share. */
export function planWorkers(config: Pick<Config, 'workers' | 'database' | 'rateLimit'>, cores = os.availableParallelism()): WorkerPlan {
  const asked = config.workers === 'auto' ? cores : config.workers;
  if (asked <= 1) return { count: 1, warnings: [] };
  const what = `WORKERS=${config.workers}${config.workers === 'auto' ? ` (${cores} cores)` : ''}`;
  if (!config.database.url) {
    return { count: 1, warnings: [`${what} ignored: the embedded database runs in one process (set DATABASE_URL for more workers)`] };
  }
  if (!config.rateLimit.redisUrl) {
    return { count: 1, warnings: [`${what} ignored: workers share rate-limit budgets through Redis (set REDIS_URL for more workers)`] };
  }
  return { count: asked, warnings: [] };
}

// The worker's slot travels in its environment (cluster.fork's only channel at start);
// it is the primary's, not an operator's setting, so it is not part of Config.
const SLOT_VAR = 'AURALINK_WORKER_SLOT';

/** Whether this process starts the background jobs: a single process, or worker 0. */
export function runsJobs(): boolean {
  return !cluster.isWorker || process.env[SLOT_VAR] === '0';
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A worker that ran this long without dying resets its slot's backoff. */
const STABLE_MS = 60_000;

/**
 * Runs the primary: forks `count` workers and supervises them. Resolves with the exit
 * code the process should end with: 0 after a clean drain on SIGTERM/SIGINT, or the
 * code of a worker that failed to start (a configuration or dependency problem that a
 * restart would only repeat).
 */
export function runPrimary(count: number, config: Pick<Config, 'shutdownTimeoutMs'>, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    const slots = new Map<Worker, { slot: number; listening: boolean; started: number }>();
    const failures = new Array<number>(count).fill(0);
    const timers = new Set<NodeJS.Timeout>();
    let stopping = false;
    let served = false;
    let exitCode = 0;

    const fork = (slot: number) => {
      const worker = cluster.fork({ [SLOT_VAR]: String(slot) });
      slots.set(worker, { slot, listening: false, started: Date.now() });
      worker.on('listening', () => {
        const s = slots.get(worker);
        if (s) s.listening = true;
        served = true;
      });
    };

    const finish = () => {
      if (slots.size > 0) return;
      for (const t of timers) clearTimeout(t);
      logger.info({ exitCode }, 'all workers stopped');
      resolve(exitCode);
    };

    const stopAll = (reason: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ reason, workers: slots.size }, 'stopping workers');
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of slots.keys()) w.process.kill('SIGTERM');
      // Each worker bounds its own drain by SHUTDOWN_TIMEOUT_MS; this is the backstop.
      const force = setTimeout(() => {
        logger.error({ workers: slots.size }, 'workers did not stop in time; killing them');
        exitCode = 1;
        for (const w of slots.keys()) w.process.kill('SIGKILL');
      }, config.shutdownTimeoutMs + 10_000);
      force.unref();
      finish();
    };

    cluster.on('exit', (worker, code, signal) => {
      const s = slots.get(worker);
      if (!s) return;
      slots.delete(worker);
      if (stopping) {
        if (code !== 0) exitCode = exitCode || 1;
        finish();
        return;
      }
      if (!served) {
        // No worker has served yet: the start failed, and a restart would fail the same way.
        logger.error({ slot: s.slot, code, signal }, 'worker failed to start; stopping');
        exitCode = code || 1;
        stopAll('worker start failed');
        return;
      }
      if (Date.now() - s.started > STABLE_MS) failures[s.slot] = 0;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** failures[s.slot]!);
      failures[s.slot]!++;
      logger.error({ slot: s.slot, workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; restarting');
      const t = setTimeout(() => {
        timers.delete(t);
        if (!stopping) fork(s.slot);
      }, delay);
      timers.add(t);
    });

    process.on('SIGTERM', () => stopAll('SIGTERM'));
    process.on('SIGINT', () => stopAll('SIGINT'));
    answerMetrics(logger);
    logger.info({ workers: count }, 'starting workers');
    for (let i = 0; i < count; i++) fork(i);
  });
}

const METRICS_REQ = 'auralink:metrics-req';
const METRICS_RES = 'auralink:metrics-res';
const METRICS_TIMEOUT_MS = 7000; // the aggregator's own wait for the workers is 5 s

interface MetricsMessage {
  type: typeof METRICS_REQ | typeof METRICS_RES;
  id: number;
  text?: string;
  error?: string;
}
const isMetricsMessage = (m: unknown, type: MetricsMessage['type']): m is MetricsMessage =>
  typeof m === 'object' && m !== null && (m as MetricsMessage).type === type;

/** In the primary: answers a worker's request for the metrics of every worker. */
function answerMetrics(logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMetricsMessage(message, METRICS_REQ)) return;
    const reply = (m: Omit<MetricsMessage, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_RES, id: message.id, ...m });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: Error) => {
        logger.warn({ err: err.message }, 'metrics: a worker did not answer');
        reply({ error: err.message });
      },
    );
  });
}

/** In a worker: lets the primary collect `registry` (no-op in a single process). */
export function shareMetrics(registry: Registry): void {
  if (!cluster.isWorker) return;
  new AggregatorRegistry(); // installs the worker's answer to the primary's collection
  AggregatorRegistry.setRegistries([registry]);
}

let metricsRequests = 0;
const pendingMetrics = new Map<number, (m: MetricsMessage) => void>();

/**
 * In a worker: the metrics of every worker, as the primary sums them; null in a single
 * process. Rejects when the primary or a worker does not answer in time.
 */
export function clusterMetrics(): Promise<string> | null {
  if (!cluster.isWorker || !process.send) return null;
  if (metricsRequests === 0) {
    process.on('message', (m: unknown) => {
      if (isMetricsMessage(m, METRICS_RES)) pendingMetrics.get(m.id)?.(m);
    });
  }
  const id = ++metricsRequests;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => settle({ type: METRICS_RES, id, error: 'the primary did not answer in time' }), METRICS_TIMEOUT_MS);
    const settle = (m: MetricsMessage) => {
      clearTimeout(timer);
      pendingMetrics.delete(id);
      if (m.error !== undefined || m.text === undefined) reject(new Error(m.error ?? 'no metrics'));
      else resolve(m.text);
    };
    pendingMetrics.set(id, settle);
    process.send!({ type: METRICS_REQ, id });
  });
}
