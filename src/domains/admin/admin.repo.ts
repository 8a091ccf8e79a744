// SQL of the operator API: every call, a call's detail, live rooms, the health of the
// LiveKit link. Runs in the operator scope (db.asOperator): auralink_operator's
// policies let it read every call, and its grants let it read only (no e-mail
// addresses, no link password hashes: those columns are not granted).
import type { Sql } from '../../db/database.ts';
import { Params } from '../../db/params.ts';
import type { CallBaseRow } from '../calls/calls.repo.ts';

export interface AdminCallRow extends CallBaseRow {
  privacy: string;
  sessions: number;
}

const SELECT = `SELECT c.call_id, c.room_id, c.room_name, c.name, c.call_type, c.status, c.privacy, c.started_at,
    c.ended_at, c.duration_seconds, c.participant_count, c.max_participants, c.avg_quality_score, c.created_by,
    c.created_at, c.created_at::text AS created_key, u.display_name AS creator_display_name, u.aura_id AS creator_aura_id,
    (SELECT count(*)::int FROM files f WHERE f.call_id = c.call_id) AS files_shared,
    (SELECT count(*)::int FROM call_participants p WHERE p.call_id = c.call_id AND p.joined_at IS NOT NULL) AS sessions
  FROM calls c LEFT JOIN users u ON u.user_id = c.created_by`;

export interface AdminCallFilter {
  status: string | null;
  callType: string | null;
  from: string | null;
  to: string | null;
  roomName: string | null;
  /** Words to find in the title, the room name or a participant's name (case-insensitive). */
  q: string | null;
  after: { created: string; id: string } | null;
  limit: number;
}

/** LIKE pattern for a literal substring. */
export const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

export async function listCalls(sql: Sql, f: AdminCallFilter): Promise<AdminCallRow[]> {
  // Newest first along calls_created_idx; filters skip within that order.
  const p = new Params();
  p.where(f.status, () => `c.status = ${p.add(f.status)}`)
    .where(f.callType, () => `c.call_type = ${p.add(f.callType)}`)
    .where(f.from, () => `c.created_at >= ${p.add(f.from)}::timestamptz`)
    .where(f.to, () => `c.created_at < ${p.add(f.to)}::timestamptz`)
    .where(f.roomName, () => `c.room_name = ${p.add(f.roomName)}`)
    .where(f.q, () => {
      const q = p.add(likePattern(f.q!));
      return `(c.name ILIKE ${q} OR c.room_name ILIKE ${q} OR EXISTS (
        SELECT 1 FROM call_participants sp WHERE sp.call_id = c.call_id AND sp.display_name ILIKE ${q}))`;
    })
    .where(f.after, () => `(c.created_at, c.call_id) < (${p.add(f.after!.created)}::timestamptz, ${p.add(f.after!.id)}::uuid)`);
  const limit = p.add(f.limit);
  const { rows } = await sql.query<AdminCallRow>(
    `${SELECT} WHERE true${p.and()} ORDER BY c.created_at DESC, c.call_id DESC LIMIT ${limit}`,
    p.values,
  );
  return rows;
}

export async function findCall(sql: Sql, callId: string): Promise<AdminCallRow | null> {
  const { rows } = await sql.query<AdminCallRow>(`${SELECT} WHERE c.call_id = $1`, [callId]);
  return rows[0] ?? null;
}

export interface MediaEventRow {
  participant_id: string;
  track_sid: string;
  source: string;
  action: 'published' | 'unpublished';
  occurred_at: Date;
}

export async function mediaEvents(sql: Sql, callId: string): Promise<MediaEventRow[]> {
  const { rows } = await sql.query<MediaEventRow>(
    `SELECT participant_id, track_sid, source, action, occurred_at FROM participant_media_events
      WHERE call_id = $1 ORDER BY occurred_at, action, media_event_id LIMIT 10000`,
    [callId],
  );
  return rows;
}

export interface FileRow {
  file_id: string;
  file_name: string;
  file_type: string;
  file_size: number;
  uploader_id: string | null;
  access_level: string;
  scan_status: string;
  expires_at: Date | null;
  created_at: Date;
}

export async function files(sql: Sql, callId: string): Promise<FileRow[]> {
  const { rows } = await sql.query<FileRow>(
    `SELECT file_id, file_name, file_type, file_size, uploader_id, access_level, scan_status, expires_at, created_at
       FROM files WHERE call_id = $1 ORDER BY created_at DESC, file_id DESC LIMIT 500`,
    [callId],
  );
  return rows;
}

export interface LinkRow {
  link_id: string;
  short_code: string;
  title: string | null;
  access_type: string;
  is_active: boolean;
  expires_at: Date | null;
  max_uses: number | null;
  current_uses: number;
  total_clicks: number;
  unique_visitors: number;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
}

export async function links(sql: Sql, callId: string): Promise<LinkRow[]> {
  const { rows } = await sql.query<LinkRow>(
    `SELECT link_id, short_code, title, access_type, is_active, expires_at, max_uses, current_uses, total_clicks,
            unique_visitors, created_by, created_at, last_used_at
       FROM shareable_links WHERE call_id = $1 ORDER BY created_at DESC, link_id DESC LIMIT 500`,
    [callId],
  );
  return rows;
}

export interface LiveRoomRow {
  call_id: string;
  room_name: string;
  name: string;
  call_type: string;
  status: string;
  started_at: Date | null;
  created_at: Date;
  created_by: string;
  participant_count: number;
  max_participants: number;
}

/** Calls that are open (waiting or active), busiest first, along calls_live_order_idx (migration 020). */
export async function liveRooms(sql: Sql, limit: number): Promise<LiveRoomRow[]> {
  const { rows } = await sql.query<LiveRoomRow>(
    `SELECT call_id, room_name, name, call_type, status, started_at, created_at, created_by, participant_count,
            max_participants
       FROM calls WHERE status IN ('waiting', 'active')
      ORDER BY participant_count DESC, created_at DESC, call_id LIMIT $1`,
    [limit],
  );
  return rows;
}

export interface LiveSessionRow {
  call_id: string;
  participant_id: string;
  user_id: string | null;
  identity: string;
  display_name: string | null;
  role: string;
  joined_at: string | null; // ISO 8601, formatted by PostgreSQL
  audio_enabled: boolean;
  video_enabled: boolean;
  screen_sharing: boolean;
  avg_quality_score: number | null;
}

/**
 * The first `perRoom` connected sessions of each room (earliest joins first), along
 * call_participants_connected_join_idx: a webinar room with thousands of guests costs
 * `perRoom` rows, not thousands (calls.participant_count gives each room's total).
 * A page of 100 rooms is 2,000 rows: the join time comes as ISO text, not parsed into a
 * Date and formatted back for each.
 */
export async function liveSessions(sql: Sql, callIds: string[], perRoom: number): Promise<LiveSessionRow[]> {
  if (callIds.length === 0) return [];
  const { rows } = await sql.query<LiveSessionRow>(
    `SELECT s.call_id, s.participant_id, s.user_id, s.identity, s.display_name, s.role,
            to_char(s.joined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS joined_at, s.audio_enabled,
            s.video_enabled, s.screen_sharing, s.avg_quality_score
       FROM unnest($1::uuid[]) AS c(call_id)
      CROSS JOIN LATERAL (
        SELECT * FROM call_participants p WHERE p.call_id = c.call_id AND p.status = 'connected'
         ORDER BY p.joined_at, p.participant_id LIMIT $2) s
      ORDER BY s.call_id, s.joined_at, s.participant_id`,
    [callIds, perRoom],
  );
  return rows;
}

export interface WebhookHealthRow {
  last_received_at: Date | null;
  last_event: string | null;
  last_room_name: string | null;
  received_last_hour: number;
  received_last_day: number;
}

export async function webhookHealth(sql: Sql): Promise<WebhookHealthRow> {
  const { rows } = await sql.query<WebhookHealthRow>(
    `SELECT l.received_at AS last_received_at, l.event AS last_event, l.room_name AS last_room_name,
            (SELECT count(*)::int FROM webhook_events WHERE received_at > now() - interval '1 hour') AS received_last_hour,
            (SELECT count(*)::int FROM webhook_events WHERE received_at > now() - interval '1 day') AS received_last_day
       FROM (SELECT 1) one
       LEFT JOIN LATERAL (SELECT received_at, event, room_name FROM webhook_events
                           ORDER BY received_at DESC LIMIT 1) l ON true`,
  );
  return rows[0]!;
}

export interface FailureRow {
  occurred_at: Date;
  kind: string;
  count: number;
  event: string | null;
  event_id: string | null;
  room_name: string | null;
  error: string | null;
}

export async function webhookFailures(sql: Sql, limit: number): Promise<{ recent: FailureRow[]; lastDay: Record<string, number> }> {
  const recent = await sql.query<FailureRow>(
    `SELECT occurred_at, kind, count, event, event_id, room_name, error FROM webhook_failures
      ORDER BY occurred_at DESC, failure_id DESC LIMIT $1`,
    [limit],
  );
  const totals = await sql.query<{ kind: string; n: number }>(
    `SELECT kind, sum(count)::int AS n FROM webhook_failures WHERE occurred_at > now() - interval '1 day' GROUP BY kind`,
  );
  return { recent: recent.rows, lastDay: Object.fromEntries(totals.rows.map((r) => [r.kind, r.n])) };
}

export interface ReconcileRunRow {
  started_at: Date;
  finished_at: Date;
  calls: number;
  calls_ended: number;
  sessions_joined: number;
  sessions_left: number;
  tracks: number;
  error: string | null;
}

export async function reconcileRuns(sql: Sql, limit: number): Promise<ReconcileRunRow[]> {
  const { rows } = await sql.query<ReconcileRunRow>(
    `SELECT started_at, finished_at, calls, calls_ended, sessions_joined, sessions_left, tracks, error
       FROM reconcile_runs ORDER BY finished_at DESC, run_id DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function reconcileLastDay(sql: Sql): Promise<Omit<ReconcileRunRow, 'started_at' | 'finished_at' | 'error'> & { runs: number; failed: number }> {
  const { rows } = await sql.query(
    `SELECT count(*)::int AS runs, count(error)::int AS failed, coalesce(sum(calls), 0)::int AS calls,
            coalesce(sum(calls_ended), 0)::int AS calls_ended, coalesce(sum(sessions_joined), 0)::int AS sessions_joined,
            coalesce(sum(sessions_left), 0)::int AS sessions_left, coalesce(sum(tracks), 0)::int AS tracks
       FROM reconcile_runs WHERE finished_at > now() - interval '1 day'`,
  );
  return rows[0];
}
