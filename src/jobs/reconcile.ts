// Reconciliation: webhooks can be lost (LiveKit gives up after its retries, the
// service was down), so open calls are compared with what LiveKit reports and the
// differences repaired: sessions LiveKit no longer has leave, rooms it no longer
// has end, sessions and tracks it has that we never heard of appear.
// One instance at a time: a session advisory try-lock on PostgreSQL; PGlite's files
// belong to one process, where an in-process flag does the same.
import type { LiveParticipant } from '../adapters/livekit.ts';
import type { AppContext } from '../context.ts';
import * as live from '../domains/participants/live.ts';
import * as rooms from '../domains/rooms/rooms.repo.ts';
import type { Job } from './index.ts';

const LOCK_KEY = 727_002; // fixed: the reconciliation lock of this service

export interface ReconcileReport {
  calls: number;
  ended: number;
  joined: number;
  left: number;
  tracks: number;
}

type Ctx = Pick<AppContext, 'db' | 'livekit' | 'logger'>;

let localBusy = false;

async function withLock<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T | null> {
  if (ctx.db.engine === 'pglite') {
    if (localBusy) return null;
    localBusy = true;
    try {
      return await fn();
    } finally {
      localBusy = false;
    }
  }
  // A session lock on a connection of its own, held while the work runs on others:
  // no transaction stays open across LiveKit calls.
  const client = await ctx.db.pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCK_KEY]);
    if (!rows[0]?.ok) return null;
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

const signal = (p: LiveParticipant): live.SessionSignal => ({
  sid: p.sid,
  identity: p.identity,
  name: p.name || null,
  joinedAt: p.joinedAtMs > 0 ? new Date(p.joinedAtMs) : null,
});

async function reconcileCall(ctx: Ctx, call: rooms.LiveCall, present: boolean, report: ReconcileReport): Promise<void> {
  const participants = present ? await ctx.livekit.listParticipants(call.room_name) : [];
  const now = new Date();
  await ctx.db.privileged(async (sql) => {
    await rooms.lockCall(sql, call.call_id);
    const current = await rooms.findLiveCall(sql, call.room_name);
    if (!current || current.status === 'ended' || current.status === 'failed') return;
    if (!present) {
      await live.callEnded(sql, current, now, 'reconciled');
      report.ended++;
      return;
    }
    const liveSids = new Set(participants.map((p) => p.sid));
    const { rows: known } = await sql.query<{ participant_sid: string; identity: string; joined_at: Date | null }>(
      `SELECT participant_sid, identity, joined_at FROM call_participants
        WHERE call_id = $1 AND status = 'connected' AND participant_sid IS NOT NULL`,
      [current.call_id],
    );
    for (const k of known) {
      if (liveSids.has(k.participant_sid)) continue;
      // Not specific: if the real participant_left arrives late, its time and reason win.
      await live.sessionEnded(sql, current, { sid: k.participant_sid, identity: k.identity, name: null, joinedAt: k.joined_at }, {
        status: 'left',
        specific: false,
        at: now,
        reason: 'RECONCILED',
      });
      report.left++;
    }
    for (const p of participants) {
      const row = await live.sessionSeen(sql, current, signal(p), now);
      if (!known.some((k) => k.participant_sid === p.sid)) report.joined++;
      const { rows: open } = await sql.query<{ track_sid: string; source: string }>(
        `SELECT track_sid, source FROM participant_media_events pub
          WHERE participant_id = $1 AND action = 'published'
            AND NOT EXISTS (SELECT 1 FROM participant_media_events u
                             WHERE u.participant_id = pub.participant_id AND u.track_sid = pub.track_sid
                               AND u.action = 'unpublished')`,
        [row.participant_id],
      );
      for (const t of p.tracks) {
        if (open.some((o) => o.track_sid === t.sid)) continue;
        await live.trackChanged(sql, current, signal(p), { trackSid: t.sid, source: t.source, action: 'published', at: now });
        report.tracks++;
      }
      for (const o of open) {
        if (p.tracks.some((t) => t.sid === o.track_sid)) continue;
        await live.trackChanged(sql, current, signal(p), {
          trackSid: o.track_sid,
          source: o.source as never,
          action: 'unpublished',
          at: now,
        });
        report.tracks++;
      }
    }
  });
}

/** One pass; null when LiveKit is not configured or another instance holds the lock. */
export async function reconcileOnce(ctx: Ctx): Promise<ReconcileReport | null> {
  if (!ctx.livekit.configured) return null;
  return withLock(ctx, async () => {
    const report: ReconcileReport = { calls: 0, ended: 0, joined: 0, left: 0, tracks: 0 };
    const started = new Date();
    try {
      await pass(ctx, report);
    } catch (err) {
      await recordRun(ctx, started, report, err);
      throw err;
    }
    await recordRun(ctx, started, report, null);
    return report;
  });
}

/** One row per pass that ran, for the operators' link health view (migration 007). */
async function recordRun(ctx: Ctx, started: Date, r: ReconcileReport, err: unknown): Promise<void> {
  const error = err === null ? null : String((err as Error)?.message ?? err).slice(0, 1000);
  await ctx.db
    .privileged((sql) =>
      sql.query(
        `INSERT INTO reconcile_runs (started_at, calls, calls_ended, sessions_joined, sessions_left, tracks, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [started, r.calls, r.ended, r.joined, r.left, r.tracks, error],
      ),
    )
    .catch((e) => ctx.logger.warn({ err: e }, 'could not record a reconciliation run'));
}

async function pass(ctx: Ctx, report: ReconcileReport): Promise<void> {
  const open = await ctx.db.privileged((sql) => rooms.openCalls(sql));
  if (open.length === 0) return;
  // Listed after reading the calls: a room created since is not in `open`, and a
  // call's LiveKit room always exists before its row does.
  const liveRooms = new Set((await ctx.livekit.listRooms()).map((r) => r.name));
  for (const call of open) {
    report.calls++;
    try {
      await reconcileCall(ctx, call, liveRooms.has(call.room_name), report);
    } catch (err) {
      ctx.logger.warn({ err, call_id: call.call_id }, 'reconciling a call failed');
    }
  }
  if (report.ended + report.joined + report.left + report.tracks > 0) ctx.logger.info(report, 'reconciled with LiveKit');
}

export function startReconcile(ctx: AppContext): Job {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = reconcileOnce(ctx).catch((err) => ctx.logger.warn({ err }, 'reconciliation failed'));
  };
  run();
  const timer = setInterval(run, ctx.config.livekit.reconcileIntervalSeconds * 1000);
  timer.unref();
  return {
    name: 'reconcile',
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
