// Background jobs, started on every instance; each job makes itself safe to run on
// N instances (advisory lock or SKIP LOCKED). Domains add their jobs here.
import type { AppContext } from '../context.ts';
import { startQualityRetention } from './quality-retention.ts';
import { startLinksCleanup } from './links-cleanup.ts';
import { startEventsCleanup } from './events-cleanup.ts';
import { startReconcile } from './reconcile.ts';
import { startFileCleanup } from './file-cleanup.ts';
import { startScanQueue } from './scan-queue.ts';
import { startRollupRepair } from './rollup-repair.ts';

export interface Job {
  name: string;
  stop(): Promise<void>;
}

export async function startJobs(ctx: AppContext): Promise<{ stop(): Promise<void> }> {
  const running: Job[] = [];
  if (!ctx.config.jobs.enabled) return { stop: async () => undefined };
  running.push(
    startQualityRetention(ctx.db, {
      retentionDays: ctx.config.quality.retentionDays,
      intervalSeconds: ctx.config.jobs.intervalSeconds,
      onError: (err) => ctx.logger.warn({ err }, 'quality retention failed'),
    }),
    startLinksCleanup(ctx.db, {
      intervalSeconds: ctx.config.jobs.intervalSeconds,
      onError: (err) => ctx.logger.warn({ err }, 'links cleanup failed'),
    }),
  );
  running.push(
    startEventsCleanup(ctx.db, {
      intervalSeconds: ctx.config.jobs.intervalSeconds,
      onError: (err) => ctx.logger.warn({ err }, 'events cleanup failed'),
    }),
  );
  if (ctx.livekit.configured) running.push(startReconcile(ctx));
  running.push(
    startRollupRepair(ctx.db, {
      days: ctx.config.rollups.repairDays,
      intervalSeconds: ctx.config.rollups.repairIntervalSeconds,
      retentionDays: ctx.config.quality.retentionDays,
      onRepaired: (r) => ctx.logger.warn(r, 'rollups differed from the raw data and were repaired'),
      onError: (err) => ctx.logger.warn({ err }, 'rollup repair failed'),
    }),
  );
  running.push(startFileCleanup(ctx));
  const scans = startScanQueue(ctx);
  if (scans) running.push(scans);
  return {
    async stop() {
      await Promise.all(running.map((j) => j.stop()));
    },
  };
}
