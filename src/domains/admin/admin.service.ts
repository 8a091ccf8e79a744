// The operator API's rules. Every read runs in the operator scope (auralink_operator,
// read-only grants, app.user_id = the operator), never on the privileged path; who is
// an operator was decided from the verified token (http/auth.ts) and the routes have
// already answered 404 to everyone else.
import type { Database } from '../../db/database.ts';
import { notFound, validation } from '../../errors.ts';
import { decodeCursor, page } from '../../http/pagination.ts';
import { callBaseView, participantView } from '../calls/calls.service.ts';
import { participantQuality } from '../calls/timeline.service.ts';
import * as links from '../links/links.repo.ts';
import * as participants from '../participants/participants.repo.ts';
import * as quality from '../quality/quality.repo.ts';
import * as repo from './admin.repo.ts';
import * as usage from './usage.repo.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const minutes = (ms: number) => Math.round((ms / 60_000) * 100) / 100;

const callView = (r: repo.AdminCallRow) => ({ ...callBaseView(r), privacy: r.privacy, sessions: r.sessions });

export interface AdminCallsQuery {
  status?: string;
  call_type?: string;
  from?: string;
  to?: string;
  room?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}

export interface RangeQuery {
  from?: string;
  to?: string;
}

const DAY_MS = 86_400_000;
export const MAX_RANGE_DAYS = 1096;
/**
 * Live rooms list a few participants each (the earliest joins; `participants`, default
 * 20, at most 200): a webinar room with thousands of guests would otherwise make the
 * page megabytes and seconds long. participants_total says how many are connected
 * (calls.participant_count, which a trigger keeps in the writing transaction); the
 * call's detail lists all.
 */
export const LIVE_PARTICIPANTS = 20;

/** A range of whole UTC days: `from` and `to` inclusive (default: the last 30 days). */
export function dayRange(q: RangeQuery, now: Date): { from: string; to: string; days: number } {
  const day = (s: string, name: string) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) {
      throw validation(`${name} must be a date (YYYY-MM-DD)`);
    }
    return t;
  };
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const to = q.to ? day(q.to, 'to') : today;
  const from = q.from ? day(q.from, 'from') : to - 29 * DAY_MS;
  if (from > to) throw validation('from must not be after to');
  const days = Math.round((to - from) / DAY_MS) + 1;
  if (days > MAX_RANGE_DAYS) throw validation(`a range covers at most ${MAX_RANGE_DAYS} days`);
  const d = (t: number) => new Date(t).toISOString().slice(0, 10);
  // The repository takes [from, to) with `to` exclusive.
  return { from: d(from), to: d(to + DAY_MS), days };
}

const dayView = (r: usage.DayRow) => ({
  day: r.day,
  participant_minutes: minutes(r.participant_ms),
  calls: r.calls,
  participations: r.participations,
  peak_concurrent: r.peak_concurrent,
});

export class AdminService {
  constructor(
    private readonly db: Database,
    private readonly opts: { livekitConfigured: boolean; clock?: () => Date } = { livekitConfigured: false },
  ) {}

  private now(): Date {
    return this.opts.clock ? this.opts.clock() : new Date();
  }

  async listCalls(operatorId: string, q: AdminCallsQuery) {
    if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw validation('from must not be after to');
    const limit = q.limit ?? 20;
    const after = decodeCursor(q.cursor, { c: 'timestamp', i: 'uuid' });
    const search = q.q?.trim() || null;
    const rows = await this.db.asOperator(operatorId, (sql) =>
      repo.listCalls(sql, {
        status: q.status ?? null,
        callType: q.call_type ?? null,
        from: q.from ?? null,
        to: q.to ?? null,
        roomName: q.room ?? null,
        q: search,
        after: after && { created: after.c, id: after.i },
        limit: limit + 1,
      }),
    );
    const { items, nextCursor } = page(rows, limit, (r) => ({ c: r.created_key, i: r.call_id }));
    return { calls: items.map(callView), next_cursor: nextCursor };
  }

  async getCall(operatorId: string, callId: string) {
    const found = await this.db.asOperator(operatorId, async (sql) => {
      const call = await repo.findCall(sql, callId);
      if (!call) return null;
      return {
        call,
        sessions: await participants.listForCall(sql, callId),
        media: await repo.mediaEvents(sql, callId),
        summary: await quality.summary(sql, callId),
        perParticipant: await quality.participantStats(sql, callId),
        files: await repo.files(sql, callId),
        links: await repo.links(sql, callId),
        linkDays: await links.visitDaysForCall(sql, callId),
      };
    });
    if (!found) throw notFound('Call');
    return {
      call: callView(found.call),
      participants: found.sessions.map((p) => ({ ...participantView(p), disconnect_reason: p.disconnect_reason })),
      timeline: timeline(found.sessions, found.media),
      quality: {
        summary: {
          samples: found.summary.samples,
          avg_quality_score: found.summary.sample_avg_quality_score,
          min_quality_score: found.summary.min_quality_score,
          avg_packet_loss_percent: found.summary.avg_packet_loss_percent,
          avg_latency_ms: found.summary.avg_latency_ms,
          avg_jitter_ms: found.summary.avg_jitter_ms,
        },
        participants: found.perParticipant.map((p) => ({
          participant_id: p.participant_id,
          samples: p.samples,
          avg_quality_score: p.avg_quality_score,
          min_quality_score: p.min_quality_score,
          avg_packet_loss_percent: p.avg_packet_loss_percent,
          avg_latency_ms: p.avg_latency_ms,
          avg_jitter_ms: p.avg_jitter_ms,
        })),
      },
      files: found.files.map((f) => ({ ...f, expires_at: iso(f.expires_at), created_at: f.created_at.toISOString() })),
      links: found.links.map((l) => ({
        ...l,
        expires_at: iso(l.expires_at),
        created_at: l.created_at.toISOString(),
        last_used_at: iso(l.last_used_at),
        days: found.linkDays.filter((d) => d.link_id === l.link_id).map(({ link_id: _, ...d }) => d),
      })),
    };
  }

  /** The user call page's quality series, for any call. */
  async callQuality(operatorId: string, callId: string) {
    const found = await this.db.asOperator(operatorId, async (sql) =>
      (await repo.findCall(sql, callId)) ? participantQuality(sql, callId) : null,
    );
    if (!found) throw notFound('Call');
    return found;
  }

  async liveRooms(operatorId: string, limit: number, perRoom = LIVE_PARTICIPANTS) {
    const { rooms, sessions } = await this.db.asOperator(operatorId, async (sql) => {
      const rooms = await repo.liveRooms(sql, limit);
      return { rooms, sessions: await repo.liveSessions(sql, rooms.map((r) => r.call_id), perRoom) };
    });
    const byRoom = new Map<string, Array<Omit<repo.LiveSessionRow, 'call_id'>>>();
    for (const { call_id, ...s } of sessions) {
      const list = byRoom.get(call_id);
      if (list) list.push(s);
      else byRoom.set(call_id, [s]);
    }
    return {
      rooms: rooms.map((r) => ({
        ...r,
        started_at: iso(r.started_at),
        created_at: r.created_at.toISOString(),
        participants_total: r.participant_count,
        participants: byRoom.get(r.call_id) ?? [],
      })),
    };
  }

  async usage(operatorId: string, q: RangeQuery & { room?: string; user_id?: string }) {
    const now = this.now();
    const range = dayRange(q, now);
    if (q.room && q.user_id) throw validation('give room or user_id, not both');
    const out = await this.db.asOperator(operatorId, async (sql) => {
      await usage.interpreted(sql);
      if (q.room) {
        const call = await repo.listCalls(sql, { status: null, callType: null, from: null, to: null, roomName: q.room,
          q: null, after: null, limit: 1 });
        if (!call[0]) return null;
        return { days: await usage.dailyForCall(sql, range.from, range.to, now, call[0].call_id), live: null };
      }
      if (q.user_id) return { days: await usage.dailyForUser(sql, range.from, range.to, now, q.user_id), live: null };
      const all = await usage.daily(sql, range.from, range.to, now);
      return { days: all.days, live: all.now };
    });
    if (!out) throw notFound('Room');
    const days = out.days.map(dayView);
    const sum = (f: (d: usage.DayRow) => number) => out.days.reduce((a, d) => a + f(d), 0);
    return {
      from: range.from,
      to: days[days.length - 1]?.day ?? range.from,
      scope: q.room ? { room: q.room } : q.user_id ? { user_id: q.user_id } : null,
      days,
      totals: {
        participant_minutes: minutes(sum((d) => d.participant_ms)),
        participations: sum((d) => d.participations),
        call_days: sum((d) => d.calls),
        peak_concurrent: q.room || q.user_id ? null : Math.max(0, ...out.days.map((d) => d.peak_concurrent ?? 0)),
      },
      now: out.live && { participants: out.live.participants, calls: out.live.calls },
    };
  }

  async usageRooms(operatorId: string, q: RangeQuery & { limit?: number }) {
    const range = dayRange(q, this.now());
    const rows = await this.db.asOperator(operatorId, async (sql) => {
      await usage.interpreted(sql);
      return usage.topRooms(sql, range.from, range.to, this.now(), q.limit ?? 20);
    });
    return {
      rooms: rows.map(({ participant_ms, ...r }) => ({ ...r, participant_minutes: minutes(participant_ms) })),
    };
  }

  async usageUsers(operatorId: string, q: RangeQuery & { limit?: number }) {
    const range = dayRange(q, this.now());
    const rows = await this.db.asOperator(operatorId, async (sql) => {
      await usage.interpreted(sql);
      return usage.topUsers(sql, range.from, range.to, this.now(), q.limit ?? 20);
    });
    return {
      users: rows.map(({ participant_ms, ...r }) => ({ ...r, participant_minutes: minutes(participant_ms) })),
    };
  }

  async worstQuality(operatorId: string, q: RangeQuery & { metric?: usage.Metric; subject?: 'calls' | 'participants'; limit?: number }) {
    const range = dayRange(q, this.now());
    const metric = q.metric ?? 'mos';
    const limit = q.limit ?? 20;
    if (q.subject === 'participants') {
      const rows = await this.db.asOperator(operatorId, async (sql) => {
        await usage.interpreted(sql);
        return usage.worstParticipants(sql, range.from, range.to, metric, limit);
      });
      return { metric, subject: 'participants' as const, participants: rows, calls: null };
    }
    const rows = await this.db.asOperator(operatorId, async (sql) => {
      await usage.interpreted(sql);
      return usage.worstCalls(sql, range.from, range.to, metric, limit);
    });
    return {
      metric,
      subject: 'calls' as const,
      calls: rows.map((r) => ({ ...r, started_at: iso(r.started_at) })),
      participants: null,
    };
  }

  async livekitHealth(operatorId: string) {
    const h = await this.db.asOperator(operatorId, async (sql) => ({
      webhooks: await repo.webhookHealth(sql),
      failures: await repo.webhookFailures(sql, 20),
      runs: await repo.reconcileRuns(sql, 20),
      lastDay: await repo.reconcileLastDay(sql),
    }));
    return {
      livekit_configured: this.opts.livekitConfigured,
      webhooks: { ...h.webhooks, last_received_at: iso(h.webhooks.last_received_at) },
      webhook_failures: {
        last_day: { signature: 0, body: 0, apply: 0, ...h.failures.lastDay },
        recent: h.failures.recent.map((f) => ({ ...f, occurred_at: f.occurred_at.toISOString() })),
      },
      reconciliation: {
        last_run_at: iso(h.runs[0]?.finished_at ?? null),
        last_day: h.lastDay,
        recent: h.runs.map((r) => ({ ...r, started_at: r.started_at.toISOString(), finished_at: r.finished_at.toISOString() })),
      },
    };
  }
}

/** Per session: joined, media on/off, left (with why), in time order. */
function timeline(sessions: participants.ParticipantRow[], media: repo.MediaEventRow[]) {
  return sessions
    .filter((s) => s.joined_at)
    .map((s) => {
      const events: Array<{ at: string; type: string; source?: string; reason?: string | null }> = [
        { at: s.joined_at!.toISOString(), type: 'joined' },
      ];
      for (const m of media.filter((e) => e.participant_id === s.participant_id)) {
        events.push({ at: m.occurred_at.toISOString(), type: m.action, source: m.source });
      }
      if (s.left_at) events.push({ at: s.left_at.toISOString(), type: s.status, reason: s.disconnect_reason });
      events.sort((a, b) => a.at.localeCompare(b.at));
      return { participant_id: s.participant_id, identity: s.identity, display_name: s.display_name, events };
    });
}
