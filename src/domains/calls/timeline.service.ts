// A call's story for the people in it: who joined and left (and why), what they
// published when, and how good each connection was over time. Visible to the same
// people as the call history (creator or someone who took part), else 404.
import type { Database, Sql } from '../../db/database.ts';
import { notFound } from '../../errors.ts';
import * as participants from '../participants/participants.repo.ts';
import * as calls from './calls.repo.ts';
import * as repo from './timeline.repo.ts';

export interface TimelineEvent {
  at: string;
  /** joined | published | unpublished | left | disconnected */
  type: string;
  source?: string;
  reason?: string | null;
}

/** Bucket widths for quality over time: the smallest that keeps a session under ~240 points. */
const BUCKETS = [10, 30, 60, 300, 900, 3600, 21600, 86400];
const MAX_POINTS = 240;

export function chooseBucket(spanMs: number): number {
  return BUCKETS.find((b) => spanMs / (b * 1000) <= MAX_POINTS) ?? BUCKETS[BUCKETS.length - 1]!;
}

/**
 * One entry per LiveKit session that joined (a reconnect is a new session of the same
 * identity), its events in time order. A session ends `left` or `disconnected`, with
 * LiveKit's reason when it gave one (e.g. DUPLICATE_IDENTITY when a reconnect replaced it).
 */
export function buildTimeline(sessions: participants.ParticipantRow[], media: repo.MediaEventRow[]) {
  const bySession = new Map<string, repo.MediaEventRow[]>();
  for (const m of media) {
    const list = bySession.get(m.participant_id) ?? [];
    list.push(m);
    bySession.set(m.participant_id, list);
  }
  return sessions
    .filter((s) => s.joined_at)
    .map((s) => {
      const events: TimelineEvent[] = [{ at: s.joined_at!.toISOString(), type: 'joined' }];
      for (const m of bySession.get(s.participant_id) ?? []) {
        events.push({ at: m.occurred_at.toISOString(), type: m.action, source: m.source });
      }
      if (s.left_at) events.push({ at: s.left_at.toISOString(), type: s.status, reason: s.disconnect_reason });
      // stable: equal instants keep joined first and the end last
      events.sort((a, b) => a.at.localeCompare(b.at));
      return {
        participant_id: s.participant_id,
        user_id: s.user_id,
        identity: s.identity,
        display_name: s.display_name,
        status: s.status,
        events,
      };
    });
}

export class TimelineService {
  constructor(private readonly db: Database) {}

  async timeline(userId: string, callId: string) {
    const found = await this.db.asUser(userId, async (sql) => {
      if (!(await calls.findMine(sql, userId, callId))) return null;
      return { sessions: await participants.listForCall(sql, callId), media: await repo.mediaEvents(sql, callId) };
    });
    if (!found) throw notFound('Call');
    return { call_id: callId, participants: buildTimeline(found.sessions, found.media) };
  }

  async qualityByParticipant(userId: string, callId: string) {
    const found = await this.db.asUser(userId, async (sql) =>
      (await calls.findMine(sql, userId, callId)) ? participantQuality(sql, callId) : null,
    );
    if (!found) throw notFound('Call');
    return found;
  }
}

/**
 * Each session's quality over time, for a call the caller was already found allowed to
 * see; runs in whichever scope `sql` carries (the user's, or an operator's).
 */
export async function participantQuality(sql: Sql, callId: string) {
  const span = await repo.sampleSpan(sql, callId);
  const bucket = span.first_at && span.last_at ? chooseBucket(span.last_at.getTime() - span.first_at.getTime()) : BUCKETS[0]!;
  const points = span.first_at ? await repo.participantSeries(sql, callId, bucket) : [];
  const sessions = await participants.listForCall(sql, callId);
  const series = new Map<string, ReturnType<typeof pointView>[]>();
  for (const p of points) {
    const list = series.get(p.participant_id) ?? [];
    list.push(pointView(p));
    series.set(p.participant_id, list);
  }
  return {
    call_id: callId,
    bucket_seconds: bucket,
    participants: sessions
      .filter((s) => series.has(s.participant_id))
      .map((s) => ({
        participant_id: s.participant_id,
        user_id: s.user_id,
        identity: s.identity,
        display_name: s.display_name,
        points: series.get(s.participant_id)!,
      })),
  };
}

const pointView = (p: repo.ParticipantPointRow) => ({
  at: p.bucket_start.toISOString(),
  samples: p.samples,
  rtt_ms: p.rtt_ms,
  jitter_ms: p.jitter_ms,
  packet_loss_percent: p.packet_loss_percent,
  bitrate_kbps: p.bitrate_kbps,
  mos: p.mos,
});
