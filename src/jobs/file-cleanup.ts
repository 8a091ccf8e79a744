// File cleanup, one instance at a time (a lease row, not a held connection):
//   1. expired files: rows deleted (RLS already hid them), objects queued by trigger
//   2. the deletion queue: objects whose rows are gone, retried with backoff
//   3. uploads recorded as in flight for too long (a crashed instance): objects removed
//   4. orphan sweep: objects under files/ that no row, upload or deletion accounts for
import crypto from 'node:crypto';
import os from 'node:os';
import type { AppContext } from '../context.ts';
import * as repo from '../domains/files/files.repo.ts';
import { publish } from '../domains/events/events.repo.ts';
import type { Job } from './index.ts';

export interface CleanupOptions {
  holder?: string;
  /** An upload still "in flight" after this long belongs to a crashed instance. */
  uploadStaleSeconds?: number;
  /** Objects younger than this are never swept (their row may be about to commit). */
  orphanMinAgeSeconds?: number;
  batch?: number;
}

export interface CleanupReport {
  ran: boolean;
  expired: number;
  deleted: number;
  deleteFailures: number;
  staleUploads: number;
  orphans: number;
}

const LEASE = 'file-cleanup';
const DEFAULT_HOLDER = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;

function backoffSeconds(attempts: number): number {
  return Math.min(3600, 15 * 2 ** Math.min(attempts, 8));
}

export async function runFileCleanup(ctx: AppContext, opts: CleanupOptions = {}): Promise<CleanupReport> {
  const { db, storage, logger } = ctx;
  const holder = opts.holder ?? DEFAULT_HOLDER;
  const batch = opts.batch ?? 100;
  const bucket = storage.bucket;
  const report: CleanupReport = { ran: false, expired: 0, deleted: 0, deleteFailures: 0, staleUploads: 0, orphans: 0 };
  const leaseSeconds = Math.max(300, ctx.config.jobs.intervalSeconds * 5);
  if (!(await db.privileged((sql) => repo.takeLease(sql, LEASE, holder, leaseSeconds)))) return report;
  report.ran = true;
  try {
    for (;;) {
      const gone = await db.privileged(async (sql) => {
        const rows = await repo.deleteExpired(sql, batch);
        for (const f of rows) {
          await publish(sql, {
            callId: f.call_id,
            audienceUserId: f.access_level === 'private' ? f.uploader_id : null,
            type: 'file.deleted',
            payload: { file_id: f.file_id, call_id: f.call_id, file_name: f.file_name, reason: 'expired' },
          });
        }
        return rows.length;
      });
      report.expired += gone;
      if (gone < batch) break;
    }

    for (;;) {
      const due = await db.privileged((sql) => repo.claimDeletions(sql, bucket, batch, leaseSeconds));
      for (const d of due) {
        try {
          await storage.delete(d.storage_path);
          await db.privileged((sql) => repo.deletionDone(sql, bucket, d.storage_path));
          report.deleted++;
        } catch (err) {
          report.deleteFailures++;
          logger.warn({ err, key: d.storage_path, attempts: d.attempts }, 'storage delete failed; will retry');
          await db.privileged((sql) =>
            repo.deletionFailed(sql, d.deletion_id, (err as Error).message ?? String(err), backoffSeconds(d.attempts)),
          );
        }
      }
      if (due.length < batch) break;
    }

    const stale = await db.privileged((sql) => repo.staleUploads(sql, bucket, opts.uploadStaleSeconds ?? 6 * 3600, batch));
    for (const key of stale) {
      try {
        await storage.abortIncomplete(key);
        await storage.delete(key);
        await db.privileged((sql) => repo.dropUpload(sql, bucket, key));
        report.staleUploads++;
      } catch (err) {
        logger.warn({ err, key }, 'could not remove an abandoned upload');
      }
    }

    report.orphans = await sweepOrphans(ctx, opts.orphanMinAgeSeconds ?? 6 * 3600, batch);
  } finally {
    await db.privileged((sql) => repo.releaseLease(sql, LEASE, holder)).catch(() => undefined);
  }
  return report;
}

async function sweepOrphans(ctx: AppContext, minAgeSeconds: number, batch: number): Promise<number> {
  const { db, storage } = ctx;
  const cutoff = Date.now() - minAgeSeconds * 1000;
  let removed = 0;
  let pending: string[] = [];
  const flush = async () => {
    // A disk temp file ("<key>.part-<rand>") belongs to its key's upload.
    const baseOf = (k: string) => k.replace(/\.part-[0-9a-f]+$/, '');
    const known = await db.privileged((sql) => repo.knownKeys(sql, storage.bucket, [...new Set(pending.map(baseOf))]));
    for (const key of pending) {
      if (known.has(baseOf(key))) continue;
      await storage.delete(key);
      removed++;
    }
    pending = [];
  };
  for await (const o of storage.list('files/')) {
    if (o.lastModified.getTime() > cutoff) continue;
    pending.push(o.key);
    if (pending.length >= batch) await flush();
  }
  if (pending.length > 0) await flush();
  return removed;
}

export function startFileCleanup(ctx: AppContext): Job {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = runFileCleanup(ctx).catch((err) => ctx.logger.warn({ err }, 'file cleanup failed'));
  };
  const timer = setInterval(tick, ctx.config.jobs.intervalSeconds * 1000);
  timer.unref();
  tick();
  return {
    name: 'file-cleanup',
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
