// Live state of a call's sessions, applied from LiveKit's signals (webhooks and
// reconciliation) on the privileged path, under the call's lock. Every rule here is
// monotone (a session only moves forward: waiting -> connected -> ended; times only
// move to the earliest known; a track is published once and unpublished once), so
// duplicates and any delivery order end in the state of one in-order delivery.
import type { Sql } from '../../db/database.ts';
import type { MediaSource, Role } from '../../adapters/livekit.ts';
import { publish } from '../events/events.repo.ts';
import * as rooms from '../rooms/rooms.repo.ts';
import * as repo from './participants.repo.ts';

export interface SessionSignal {
  sid: string;
  identity: string;
  name: string | null;
  /** LiveKit's join time (ms precision), when known. */
  joinedAt: Date | null;
}

const mediaOf = (r: repo.ParticipantRow) => ({
  audio_enabled: r.audio_enabled,
  video_enabled: r.video_enabled,
  screen_sharing: r.screen_sharing,
});

const summary = (r: repo.ParticipantRow) => ({
  participant_id: r.participant_id,
  user_id: r.user_id,
  identity: r.identity,
  display_name: r.display_name,
  role: r.role,
  status: r.status,
  ...mediaOf(r),
});

/**
 * The row of this LiveKit session: by sid; else the identity's untaken seat (from
 * grantJoin), claimed; else `fresh`, the row to insert, taking role and user from the
 * identity's last row (a reconnect that replaced its session) or from the identity itself.
 */
async function findSession(
  sql: Sql,
  callId: string,
  p: SessionSignal,
): Promise<{ row: repo.ParticipantRow; fresh?: never } | { row: null; fresh: repo.NewSession }> {
  const { bySid, seat, latest: previous } = await repo.sessionCandidates(sql, callId, p.sid, p.identity);
  if (bySid) return { row: bySid };
  if (seat) {
    await repo.claimSeat(sql, seat.participant_id, p.sid);
    return { row: { ...seat, participant_sid: p.sid } };
  }
  const role: Role = previous?.role ?? 'participant';
  return {
    row: null,
    fresh: {
      callId,
      sid: p.sid,
      identity: p.identity,
      userId: previous ? previous.user_id : await repo.userIdForIdentity(sql, p.identity),
      displayName: p.name || previous?.display_name || null,
      role,
    },
  };
}

async function sessionRow(sql: Sql, callId: string, p: SessionSignal): Promise<repo.ParticipantRow> {
  const found = await findSession(sql, callId, p);
  return found.row ?? repo.insertSession(sql, found.fresh);
}

/** The session is in the room (a join, or any later signal that proves it joined). */
export async function sessionSeen(sql: Sql, call: rooms.LiveCall, p: SessionSignal, at: Date): Promise<repo.ParticipantRow> {
  const joinedAt = p.joinedAt ?? at;
  const found = await findSession(sql, call.call_id, p);
  // The session's row and the call's start are independent writes of rows the call's
  // lock already covers: both go in one round trip (pipelined, in this order). A new
  // session is inserted connected, the state markConnected would give it, so that its
  // row and the usage rollups' triggers run once instead of for an insert and an update.
  const [row0, started] = await Promise.all([
    found.row ? repo.markConnected(sql, found.row.participant_id, joinedAt) : repo.insertSession(sql, { ...found.fresh, connectedAt: joinedAt }),
    rooms.markStarted(sql, call.call_id, joinedAt),
  ]);
  let row = row0;
  const joined = row.status === 'connected' && (!found.row || found.row.status !== 'connected');
  await Promise.all([
    started && publish(sql, { callId: call.call_id, type: 'call.started', payload: { call_id: call.call_id } }),
    joined && publish(sql, { callId: call.call_id, type: 'participant.joined', payload: summary(row) }),
  ]);
  // A join delivered after the room ended: the session ended with the room.
  if (call.ended_at && row.status === 'connected') {
    row = await sessionEnded(sql, call, p, { status: 'left', specific: false, at: call.ended_at, reason: 'ROOM_ENDED' });
  }
  return row;
}

export async function sessionEnded(
  sql: Sql,
  call: rooms.LiveCall,
  p: SessionSignal,
  e: { status: 'left' | 'disconnected'; specific: boolean; at: Date; reason: string | null },
): Promise<repo.ParticipantRow> {
  const before = await sessionRow(sql, call.call_id, p);
  const joinedAt = p.joinedAt ?? before.joined_at ?? e.at;
  if (await rooms.markStarted(sql, call.call_id, joinedAt)) {
    await publish(sql, { callId: call.call_id, type: 'call.started', payload: { call_id: call.call_id } });
  }
  const { row, changed } = await repo.markEnded(sql, before.participant_id, {
    status: e.status,
    specific: e.specific,
    joinedAt,
    leftAt: e.at,
    reason: e.reason,
  });
  if (changed) {
    await publish(sql, {
      callId: call.call_id,
      type: 'participant.left',
      payload: { ...summary(row), left_at: row.left_at?.toISOString() ?? null, duration_seconds: row.duration_seconds },
    });
  }
  return row;
}

export async function trackChanged(
  sql: Sql,
  call: rooms.LiveCall,
  p: SessionSignal,
  t: { trackSid: string; source: MediaSource; action: 'published' | 'unpublished'; at: Date },
): Promise<repo.ParticipantRow> {
  // A track event proves the session joined, even when its join was not delivered yet.
  const before = await sessionSeen(sql, call, p, t.at);
  await repo.recordMedia(sql, { callId: call.call_id, participantId: before.participant_id, ...t });
  const after = await repo.refreshMedia(sql, before.participant_id);
  const was = mediaOf(before);
  const now = mediaOf(after);
  if (was.audio_enabled !== now.audio_enabled || was.video_enabled !== now.video_enabled || was.screen_sharing !== now.screen_sharing) {
    await publish(sql, { callId: call.call_id, type: 'participant.media_changed', payload: summary(after) });
  }
  return after;
}

/** The room is gone: the call ends at `at` and every open session with it. */
export async function callEnded(sql: Sql, call: rooms.LiveCall, at: Date, reason: string): Promise<void> {
  const open = await sql.query<repo.ParticipantRow>(
    `SELECT participant_id, participant_sid, identity FROM call_participants
      WHERE call_id = $1 AND status = 'connected'`,
    [call.call_id],
  );
  if (!(await rooms.endCall(sql, call.call_id, at))) return;
  for (const p of open.rows) {
    await publish(sql, {
      callId: call.call_id,
      type: 'participant.left',
      payload: { participant_id: p.participant_id, identity: p.identity, status: 'left', reason },
    });
  }
  await publish(sql, { callId: call.call_id, type: 'call.ended', payload: { call_id: call.call_id, reason } });
}
