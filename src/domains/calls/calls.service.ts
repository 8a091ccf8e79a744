// Call history: the creator and the people who took part see a call; invitees and
// the public (whom RLS lets see a room) do not see it here.
import type { Database } from '../../db/database.ts';
import { notFound, validation } from '../../errors.ts';
import { decodeCursor, page } from '../../http/pagination.ts';
import * as participants from '../participants/participants.repo.ts';
import * as repo from './calls.repo.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The fields the history and the operator API show alike; each view adds its own. */
export const callBaseView = (r: repo.CallBaseRow) => ({
  call_id: r.call_id,
  room_id: r.room_id,
  room_name: r.room_name,
  name: r.name,
  call_type: r.call_type,
  status: r.status,
  started_at: iso(r.started_at),
  ended_at: iso(r.ended_at),
  duration_seconds: r.duration_seconds,
  participant_count: r.participant_count,
  max_participants: r.max_participants,
  files_shared: r.files_shared,
  avg_quality_score: r.avg_quality_score,
  creator: { user_id: r.created_by, display_name: r.creator_display_name, aura_id: r.creator_aura_id },
  created_at: r.created_at.toISOString(),
});

export const callView = (r: repo.CallRow) => ({ ...callBaseView(r), people_joined: r.people_joined });

export const participantView = (p: participants.ParticipantRow) => ({
  participant_id: p.participant_id,
  user_id: p.user_id,
  identity: p.identity,
  display_name: p.display_name,
  role: p.role,
  status: p.status,
  joined_at: iso(p.joined_at),
  left_at: iso(p.left_at),
  duration_seconds: p.duration_seconds,
  audio_enabled: p.audio_enabled,
  video_enabled: p.video_enabled,
  screen_sharing: p.screen_sharing,
  avg_quality_score: p.avg_quality_score,
  packet_loss_percent: p.packet_loss_percent,
  avg_latency_ms: p.avg_latency_ms,
  connection_type: p.connection_type,
});

export interface ListCallsQuery {
  status?: string;
  call_type?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export class CallsService {
  constructor(private readonly db: Database) {}

  async list(userId: string, q: ListCallsQuery) {
    if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw validation('from must not be after to');
    const limit = q.limit ?? 20;
    const after = decodeCursor(q.cursor, { c: 'timestamp', i: 'uuid' });
    const rows = await this.db.asUserOne(userId, (sql) =>
      repo.list(sql, {
        userId,
        status: q.status && q.status !== 'all' ? q.status : null,
        callType: q.call_type ?? null,
        from: q.from ?? null,
        to: q.to ?? null,
        after: after && { created: after.c, id: after.i },
        limit: limit + 1,
      }),
    );
    const { items, nextCursor } = page(rows, limit, (r) => ({ c: r.created_key, i: r.call_id }));
    return { calls: items.map(callView), next_cursor: nextCursor };
  }

  async get(userId: string, callId: string) {
    const row = await this.db.asUserOne(userId, (sql) => repo.findMine(sql, userId, callId));
    if (!row) throw notFound('Call');
    return callView(row);
  }

  async participants(userId: string, callId: string, q: { limit?: number; cursor?: string } = {}) {
    const limit = q.limit ?? 20;
    const after = decodeCursor(q.cursor, { t: 'timestamp', i: 'uuid' });
    const rows = await this.db.asUser(userId, async (sql) => {
      if (!(await repo.findMine(sql, userId, callId))) return null;
      return participants.listForCall(sql, callId, { after: after && { at: after.t, id: after.i }, limit: limit + 1 });
    });
    if (!rows) throw notFound('Call');
    const { items, nextCursor } = page(rows, limit, (r) => ({ t: r.order_key, i: r.participant_id }));
    return { participants: items.map(participantView), next_cursor: nextCursor };
  }
}
