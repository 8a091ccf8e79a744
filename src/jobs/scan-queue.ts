// The virus-scan queue: uploads commit with scan_status 'pending' and a job row (a
// trigger of 003), and workers on any number of instances take jobs with FOR UPDATE
// SKIP LOCKED plus a lease, so each file is scanned once and a crashed worker's job
// comes back. The scan itself runs outside any transaction (it streams the object
// from storage into clamd). Infected objects are deleted; their rows stay, marked,
// so a download answers 403 FILE_INFECTED instead of a puzzling 404.
import type { AppContext } from '../context.ts';
import type { Scanner } from '../adapters/scanner/index.ts';
import * as repo from '../domains/files/files.repo.ts';
import { view } from '../domains/files/files.service.ts';
import { publish } from '../domains/events/events.repo.ts';
import type { Job } from './index.ts';

export interface ScanQueueOptions {
  maxAttempts?: number;
  /** Seconds before the first retry; doubles per attempt. */
  retryBaseSeconds?: number;
  leaseSeconds?: number;
  /** Stop after this many jobs (one pass). */
  limit?: number;
}

export interface ScanReport {
  clean: number;
  infected: number;
  failed: number;
  retried: number;
}

export async function runScanQueueOnce(ctx: AppContext, opts: ScanQueueOptions = {}, scanner = ctx.scanner): Promise<ScanReport> {
  const report: ScanReport = { clean: 0, infected: 0, failed: 0, retried: 0 };
  if (!scanner) return report;
  const { db, storage, logger } = ctx;
  const maxAttempts = opts.maxAttempts ?? 5;
  for (let n = 0; n < (opts.limit ?? 50); n++) {
    const job = await db.privileged((sql) => repo.claimScanJob(sql, opts.leaseSeconds ?? 600));
    if (!job) break;
    let verdict: Awaited<ReturnType<Scanner['scan']>>;
    try {
      const obj = await storage.get(job.storage_path);
      verdict = await scanner.scan(obj.body);
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (job.attempts < maxAttempts) {
        const wait = (opts.retryBaseSeconds ?? 30) * 2 ** (job.attempts - 1);
        logger.warn({ err: message, fileId: job.file_id, attempts: job.attempts }, 'scan failed; will retry');
        await db.privileged((sql) => repo.retryScan(sql, job.file_id, message, Math.min(wait, 3600)));
        report.retried++;
      } else {
        logger.error({ err: message, fileId: job.file_id }, 'scan failed for good');
        await settle(ctx, job, 'failed', { error: message.slice(0, 200) });
        report.failed++;
      }
      continue;
    }
    if (verdict.status === 'clean') {
      await settle(ctx, job, 'clean', {});
      report.clean++;
    } else {
      logger.warn({ fileId: job.file_id, signature: verdict.signature }, 'infected file; deleting its object');
      await settle(ctx, job, 'infected', { signature: verdict.signature });
      report.infected++;
      try {
        await storage.delete(job.storage_path);
        await db.privileged((sql) => repo.deletionDone(sql, job.storage_bucket, job.storage_path));
      } catch (err) {
        logger.warn({ err, key: job.storage_path }, 'could not delete an infected object yet; queued');
      }
    }
  }
  return report;
}

async function settle(
  ctx: AppContext,
  job: repo.ScanJob,
  status: 'clean' | 'infected' | 'failed',
  detail: Record<string, unknown>,
): Promise<void> {
  await ctx.db.privileged(async (sql) => {
    const row = await repo.finishScan(sql, job.file_id, status, detail);
    if (!row) return;
    // Queued in the same transaction as the verdict: the object cannot outlive it.
    if (status === 'infected') await repo.queueDeletion(sql, job.storage_bucket, job.storage_path, 'infected');
    await publish(sql, {
      callId: row.call_id,
      audienceUserId: row.access_level === 'private' ? row.uploader_id : null,
      type: 'file.scanned',
      payload: { file: view(row) },
    });
  });
}

export function startScanQueue(ctx: AppContext, pollMs = 2000): Job | null {
  if (!ctx.scanner) return null;
  let stopped = false;
  let busy: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = runScanQueueOnce(ctx)
      .catch((err) => ctx.logger.warn({ err }, 'scan queue pass failed'))
      .finally(() => (busy = null));
  }, pollMs);
  timer.unref();
  return {
    name: 'scan-queue',
    async stop() {
      stopped = true;
      clearInterval(timer);
      await busy;
    },
  };
}
