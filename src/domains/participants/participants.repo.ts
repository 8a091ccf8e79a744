// SQL of participant sessions (call_participants) and their media timeline.
// One row per LiveKit session (participant sid); a row without a sid is a seat
// handed out with a token and not yet taken (status 'waiting').
import type { Sql } from '../../db/database.ts';
import type { Role } from '../../adapters/livekit.ts';

export type ParticipantStatus = 'waiting' | 'connected' | 'disconnected' | 'left';

export interface ParticipantRow {
  participant_id: string;
  call_id: string;
  user_id: string | null;
  identity: string;
  participant_sid: string | null;
  display_name: string | null;
  role: Role;
  status: ParticipantStatus;
  joined_at: Date | null;
  left_at: Date | null;
  duration_seconds: number | null;
  audio_enabled: boolean;
  video_enabled: boolean;
  screen_sharing: boolean;
  avg_quality_score: number | null;
  packet_loss_percent: number | null;
  avg_latency_ms: number | null;
  connection_type: string | null;
  disconnect_reason: string | null;
}

const COLUMNS = `participant_id, call_id, user_id, identity, participant_sid, display_name, role, status, joined_at,
  left_at, duration_seconds, audio_enabled, video_enabled, screen_sharing, avg_quality_score, packet_loss_percent,
  avg_latency_ms, connection_type, disconnect_reason`;

/** Connected sessions of other identities: the seats taken right now. */
export async function countConnectedOthers(sql: Sql, callId: string, identity: string): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(DISTINCT identity)::int AS n FROM call_participants
      WHERE call_id = $1 AND status = 'connected' AND identity <> $2`,
    [callId, identity],
  );
  return rows[0]!.n;
}

export interface Seat {
  callId: string;
  userId: string | null;
  identity: string;
  displayName: string;
  role: Role;
  /** Kept as given: the token's metadata string, or null. */
  metadata: string | null;
}

/** Reuses the identity's untaken seat, else adds one. */
export async function upsertWaiting(sql: Sql, s: Seat): Promise<ParticipantRow> {
  const { rows: existing } = await sql.query<{ participant_id: string }>(
    `SELECT participant_id FROM call_participants
      WHERE call_id = $1 AND identity = $2 AND status = 'waiting' AND participant_sid IS NULL
      ORDER BY created_at DESC LIMIT 1`,
    [s.callId, s.identity],
  );
  if (existing[0]) {
    const { rows } = await sql.query<ParticipantRow>(
      `UPDATE call_participants SET display_name = $2, role = $3, metadata = $4
        WHERE participant_id = $1 RETURNING ${COLUMNS}`,
      [existing[0].participant_id, s.displayName, s.role, JSON.stringify(s.metadata ?? {})],
    );
    return rows[0]!;
  }
  const { rows } = await sql.query<ParticipantRow>(
    `INSERT INTO call_participants (call_id, user_id, identity, display_name, role, metadata)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [s.callId, s.userId, s.identity, s.displayName, s.role, JSON.stringify(s.metadata ?? {})],
  );
  return rows[0]!;
}

export async function listForCall(sql: Sql, callId: string): Promise<ParticipantRow[]> {
  const { rows } = await sql.query<ParticipantRow>(
    `SELECT ${COLUMNS} FROM call_participants WHERE call_id = $1
      ORDER BY coalesce(joined_at, created_at), participant_id`,
    [callId],
  );
  return rows;
}

export async function findBySid(sql: Sql, callId: string, sid: string): Promise<ParticipantRow | null> {
  const { rows } = await sql.query<ParticipantRow>(
    `SELECT ${COLUMNS} FROM call_participants WHERE call_id = $1 AND participant_sid = $2`,
    [callId, sid],
  );
  return rows[0] ?? null;
}

/** The latest row of an identity in a call: who a new session of that identity is. */
export async function latestForIdentity(sql: Sql, callId: string, identity: string): Promise<ParticipantRow | null> {
  const { rows } = await sql.query<ParticipantRow>(
    `SELECT ${COLUMNS} FROM call_participants WHERE call_id = $1 AND identity = $2
      ORDER BY (participant_sid IS NULL AND status = 'waiting') DESC, created_at DESC LIMIT 1`,
    [callId, identity],
  );
  return rows[0] ?? null;
}

export async function claimSeat(sql: Sql, participantId: string, sid: string): Promise<void> {
  await sql.query(`UPDATE call_participants SET participant_sid = $2 WHERE participant_id = $1`, [participantId, sid]);
}

export interface NewSession {
  callId: string;
  sid: string;
  identity: string;
  userId: string | null;
  displayName: string | null;
  role: Role;
}

export async function insertSession(sql: Sql, s: NewSession): Promise<ParticipantRow> {
  const { rows } = await sql.query<ParticipantRow>(
    `INSERT INTO call_participants (call_id, participant_sid, identity, user_id, display_name, role)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [s.callId, s.sid, s.identity, s.userId, s.displayName, s.role],
  );
  return rows[0]!;
}

/** A user id for an identity, when the identity is a known user's id. */
export async function userIdForIdentity(sql: Sql, identity: string): Promise<string | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(identity)) return null;
  const { rows } = await sql.query<{ user_id: string }>('SELECT user_id FROM users WHERE user_id = $1', [identity]);
  return rows[0]?.user_id ?? null;
}

/**
 * Marks a session connected unless it already ended (a session that left never
 * comes back; a rejoin is a new sid). Earliest known join time wins.
 */
export async function markConnected(sql: Sql, participantId: string, joinedAt: Date): Promise<ParticipantRow> {
  const { rows } = await sql.query<ParticipantRow>(
    `UPDATE call_participants
        SET status = CASE WHEN status IN ('left', 'disconnected') THEN status ELSE 'connected' END,
            joined_at = least(coalesce(joined_at, $2), $2)
      WHERE participant_id = $1 RETURNING ${COLUMNS}`,
    [participantId, joinedAt],
  );
  return rows[0]!;
}

/** Ends a session once; the first end wins, so a redelivered or late leave changes nothing. */
export async function markEnded(
  sql: Sql,
  participantId: string,
  status: 'left' | 'disconnected',
  joinedAt: Date,
  leftAt: Date,
  reason: string | null,
): Promise<ParticipantRow> {
  const { rows } = await sql.query<ParticipantRow>(
    `UPDATE call_participants
        SET joined_at = least(coalesce(joined_at, $3), $3),
            status = CASE WHEN status IN ('left', 'disconnected') THEN status ELSE $2 END,
            left_at = CASE WHEN status IN ('left', 'disconnected') THEN left_at ELSE greatest($4, least(coalesce(joined_at, $3), $3)) END,
            disconnect_reason = CASE WHEN status IN ('left', 'disconnected') THEN disconnect_reason ELSE $5 END,
            audio_enabled = false, video_enabled = false, screen_sharing = false
      WHERE participant_id = $1 RETURNING ${COLUMNS}`,
    [participantId, status, joinedAt, leftAt, reason],
  );
  return rows[0]!;
}

export async function recordMedia(
  sql: Sql,
  m: { callId: string; participantId: string; trackSid: string; source: string; action: 'published' | 'unpublished'; at: Date },
): Promise<boolean> {
  const { rowCount } = await sql.query(
    `INSERT INTO participant_media_events (call_id, participant_id, track_sid, source, action, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ON CONSTRAINT participant_media_events_once DO NOTHING`,
    [m.callId, m.participantId, m.trackSid, m.source, m.action, m.at],
  );
  return rowCount === 1;
}

/**
 * Recomputes the media flags from the timeline: a source is on while a track of it
 * is published and not unpublished, and only while the session is connected.
 */
export async function refreshMedia(sql: Sql, participantId: string): Promise<ParticipantRow> {
  const { rows } = await sql.query<ParticipantRow>(
    `WITH live AS (
       SELECT p.source FROM participant_media_events p
        WHERE p.participant_id = $1 AND p.action = 'published'
          AND NOT EXISTS (SELECT 1 FROM participant_media_events u
                           WHERE u.participant_id = p.participant_id AND u.track_sid = p.track_sid
                             AND u.action = 'unpublished'))
     UPDATE call_participants
        SET audio_enabled = status = 'connected' AND EXISTS (SELECT 1 FROM live WHERE source = 'microphone'),
            video_enabled = status = 'connected' AND EXISTS (SELECT 1 FROM live WHERE source = 'camera'),
            screen_sharing = status = 'connected' AND EXISTS (SELECT 1 FROM live WHERE source = 'screen_share')
      WHERE participant_id = $1 RETURNING ${COLUMNS}`,
    [participantId],
  );
  return rows[0]!;
}
