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

export interface Seat {
  callId: string;
  userId: string | null;
  identity: string;
  displayName: string;
  role: Role;
  /** Kept as given: the token's metadata string, or null. */
  metadata: string | null;
}

/** A seat's metadata column as the grant writes it (jsonb text): the token's string, or {}. */
export const seatMetadata = (metadata: string | null): string => JSON.stringify(metadata ?? {});

/**
 * Reuses the identity's untaken seat, else adds one: one statement, race-free through
 * the partial unique index of migration 006 (concurrent grants meet in ON CONFLICT).
 * Returns the seat's id only: a grant needs nothing else, and every returned column is
 * output the backend formats and the driver describes and parses on the hot path.
 */
export async function upsertWaiting(sql: Sql, s: Seat): Promise<Pick<ParticipantRow, 'participant_id'>> {
  const { rows } = await sql.query<Pick<ParticipantRow, 'participant_id'>>(
    `INSERT INTO call_participants (call_id, user_id, identity, display_name, role, metadata)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (call_id, identity) WHERE status = 'waiting' AND participant_sid IS NULL
     DO UPDATE SET display_name = EXCLUDED.display_name, role = EXCLUDED.role, metadata = EXCLUDED.metadata
     RETURNING participant_id`,
    [s.callId, s.userId, s.identity, s.displayName, s.role, seatMetadata(s.metadata)],
  );
  return rows[0]!;
}

export interface ParticipantPage {
  /** The sort key of the last row already seen (its order_key and participant_id). */
  after: { at: string; id: string } | null;
  limit: number;
}

/**
 * A call's sessions in join order (a seat not yet taken by its token time), one keyset
 * page at a time, or all of them without `pg`. A seat that connects moves later in this
 * order, never earlier, so a reader paging through a live call may see it twice but
 * never misses it.
 */
export async function listForCall(
  sql: Sql,
  callId: string,
  pg?: ParticipantPage,
): Promise<Array<ParticipantRow & { order_key: string }>> {
  // LIMIT NULL is no limit.
  const values: unknown[] = [callId, pg?.limit ?? null];
  let after = '';
  if (pg?.after) {
    values.push(pg.after.at, pg.after.id);
    after = `AND (coalesce(joined_at, created_at), participant_id) > ($3::timestamptz, $4::uuid)`;
  }
  // order_key is the timestamp as PostgreSQL prints it: full microsecond precision,
  // which a JavaScript Date would round to milliseconds and so repeat or skip rows.
  const { rows } = await sql.query<ParticipantRow & { order_key: string }>(
    `SELECT ${COLUMNS}, coalesce(joined_at, created_at)::text AS order_key FROM call_participants
      WHERE call_id = $1 ${after}
      ORDER BY coalesce(joined_at, created_at), participant_id
      LIMIT $2`,
    values,
  );
  return rows;
}

export interface SessionCandidates {
  /** The row of this session (by sid). */
  bySid: ParticipantRow | null;
  /** A seat handed out for this identity that no session has taken yet (or that a room end closed untaken). */
  seat: ParticipantRow | null;
  /** The latest row of the identity: who a new session of that identity is (role, user). */
  latest: ParticipantRow | null;
}

/** The three rows a LiveKit session may map to, in one round trip. */
export async function sessionCandidates(sql: Sql, callId: string, sid: string, identity: string): Promise<SessionCandidates> {
  const { rows } = await sql.query<ParticipantRow & { kind: number }>(
    `(SELECT 1 AS kind, ${COLUMNS} FROM call_participants WHERE call_id = $1 AND participant_sid = $2 LIMIT 1)
     UNION ALL
     (SELECT 2, ${COLUMNS} FROM call_participants
       WHERE call_id = $1 AND identity = $3 AND participant_sid IS NULL AND joined_at IS NULL
       ORDER BY created_at DESC LIMIT 1)
     UNION ALL
     (SELECT 3, ${COLUMNS} FROM call_participants WHERE call_id = $1 AND identity = $3 ORDER BY created_at DESC LIMIT 1)`,
    [callId, sid, identity],
  );
  const of = (kind: number) => {
    const row = rows.find((r) => r.kind === kind);
    if (!row) return null;
    const { kind: _, ...rest } = row;
    return rest;
  };
  return { bySid: of(1), seat: of(2), latest: of(3) };
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
  /**
   * Set: the session is inserted connected since then, in the state markConnected would
   * leave it in, so that its row, triggers and usage rollups are written once, not twice.
   */
  connectedAt?: Date | null;
}

export async function insertSession(sql: Sql, s: NewSession): Promise<ParticipantRow> {
  if (s.connectedAt) {
    const { rows } = await sql.query<ParticipantRow>(
      `INSERT INTO call_participants (call_id, participant_sid, identity, user_id, display_name, role, status, joined_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'connected', $7) RETURNING ${COLUMNS}`,
      [s.callId, s.sid, s.identity, s.userId, s.displayName, s.role, s.connectedAt],
    );
    return rows[0]!;
  }
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
            joined_at = least(coalesce(joined_at, $2), $2),
            duration_seconds = CASE WHEN left_at IS NULL THEN duration_seconds
              ELSE greatest(0, floor(extract(epoch FROM left_at - least(coalesce(joined_at, $2), $2))))::int END
      WHERE participant_id = $1 RETURNING ${COLUMNS}`,
    [participantId, joinedAt],
  );
  return rows[0]!;
}

const DURATION = `CASE WHEN joined_at IS NULL OR left_at IS NULL THEN NULL
  ELSE greatest(0, floor(extract(epoch FROM left_at - joined_at)))::int END`;

/**
 * Ends a session. The earliest end wins, whatever order the signals came in, and
 * the session's own leave (specific) decides the status over a room ending.
 * Durations are set here too (the trigger only fires on a status change, and a
 * late, earlier signal may move left_at or joined_at afterwards).
 */
export async function markEnded(
  sql: Sql,
  participantId: string,
  e: { status: 'left' | 'disconnected'; specific: boolean; joinedAt: Date | null; leftAt: Date; reason: string | null },
): Promise<{ row: ParticipantRow; /** the session ended with this signal */ changed: boolean }> {
  const { rows } = await sql.query<{ status: string; was: string }>(
    `WITH old AS (SELECT participant_id, status AS was FROM call_participants WHERE participant_id = $1)
     UPDATE call_participants c
        SET joined_at = CASE WHEN $3::timestamptz IS NULL THEN c.joined_at ELSE least(coalesce(c.joined_at, $3), $3) END,
            status = CASE WHEN c.status NOT IN ('left', 'disconnected') OR $5 THEN $2 ELSE c.status END,
            disconnect_reason = CASE WHEN c.status NOT IN ('left', 'disconnected') OR $5 THEN $6 ELSE c.disconnect_reason END,
            left_at = least(coalesce(c.left_at, $4), $4),
            audio_enabled = false, video_enabled = false, screen_sharing = false
       FROM old WHERE c.participant_id = old.participant_id
     RETURNING c.status, old.was`,
    [participantId, e.status, e.joinedAt, e.leftAt, e.specific, e.reason],
  );
  const was = rows[0]!.was;
  // left_at never before joined_at (LiveKit's event times are whole seconds).
  const { rows: fixed } = await sql.query<ParticipantRow>(
    `UPDATE call_participants
        SET left_at = greatest(left_at, coalesce(joined_at, left_at)),
            duration_seconds = ${DURATION.replace(/left_at/g, 'greatest(left_at, coalesce(joined_at, left_at))')}
      WHERE participant_id = $1 RETURNING ${COLUMNS}`,
    [participantId],
  );
  const ended = (st: string) => st === 'left' || st === 'disconnected';
  return { row: fixed[0]!, changed: !ended(was) && ended(fixed[0]!.status) };
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
