// All SQL of the quality domain. Users' reports run in their RLS scope (the insert
// policy checks the participant is the caller's), guests' through a function that
// checks the seat is the call's; statement triggers keep the rollups and the
// participant/call averages current.
import type { Sql } from '../../db/database.ts';

export interface Sample {
  recorded_at?: string;
  packet_loss_percent?: number;
  jitter_ms?: number;
  latency_ms?: number;
  bandwidth_kbps?: number;
  video_resolution?: string;
  video_fps?: number;
  audio_bitrate_kbps?: number;
  video_bitrate_kbps?: number;
  connection_type?: 'udp' | 'tcp' | 'relay';
  ice_state?: string;
  quality_score?: number | null;
}

/** 'none' when the call is not visible, else whether the caller is a member. */
export async function callAccess(sql: Sql, callId: string): Promise<'none' | 'visible' | 'member'> {
  const { rows } = await sql.query<{ member: boolean }>(
    'SELECT app.is_call_member(call_id) AS member FROM calls WHERE call_id = $1',
    [callId],
  );
  if (!rows[0]) return 'none';
  return rows[0].member ? 'member' : 'visible';
}

/** The caller's own seat in the call: the connected one if any, else the latest. */
export async function ownParticipant(sql: Sql, callId: string, userId: string): Promise<string | null> {
  const { rows } = await sql.query<{ participant_id: string }>(
    `SELECT participant_id FROM call_participants WHERE call_id = $1 AND user_id = $2
      ORDER BY (status = 'connected') DESC, created_at DESC LIMIT 1`,
    [callId, userId],
  );
  return rows[0]?.participant_id ?? null;
}

/** One multi-row INSERT for the whole batch; the rollup trigger then runs once. */
export async function insertSamples(sql: Sql, callId: string, participantId: string, samples: Sample[]): Promise<number> {
  const { rowCount } = await sql.query(
    `INSERT INTO quality_metrics (call_id, participant_id, recorded_at, packet_loss_percent, jitter_ms, latency_ms,
        bandwidth_kbps, video_resolution, video_fps, audio_bitrate_kbps, video_bitrate_kbps, connection_type,
        ice_state, quality_score)
     SELECT $1, $2, coalesce(s.recorded_at, now()), s.packet_loss_percent, s.jitter_ms, s.latency_ms,
            s.bandwidth_kbps, s.video_resolution, s.video_fps, s.audio_bitrate_kbps, s.video_bitrate_kbps,
            s.connection_type, s.ice_state, s.quality_score
       FROM jsonb_to_recordset($3::jsonb) AS s(recorded_at timestamptz, packet_loss_percent numeric,
            jitter_ms numeric, latency_ms numeric, bandwidth_kbps numeric, video_resolution text,
            video_fps numeric, audio_bitrate_kbps numeric, video_bitrate_kbps numeric, connection_type text,
            ice_state text, quality_score numeric)`,
    [callId, participantId, JSON.stringify(samples)],
  );
  return rowCount ?? 0;
}

/**
 * For a seat named by a verified quality token (guests have no user for the insert
 * policy): migration 013's function writes the batch only if the seat is the call's.
 * Null when it is not.
 */
export async function insertSeatSamples(
  sql: Sql,
  callId: string,
  participantId: string,
  samples: Sample[],
): Promise<number | null> {
  const { rows } = await sql.query<{ n: number | null }>('SELECT app.quality_report_for_seat($1, $2, $3::jsonb) AS n', [
    callId,
    participantId,
    JSON.stringify(samples),
  ]);
  return rows[0]?.n ?? null;
}

/** Averages and worst values over a set of samples (a call, or one participant). */
export interface SampleStats {
  min_quality_score: number | null;
  avg_packet_loss_percent: number | null;
  max_packet_loss_percent: number | null;
  avg_latency_ms: number | null;
  max_latency_ms: number | null;
  avg_jitter_ms: number | null;
  max_jitter_ms: number | null;
  first_sample_at: Date | null;
  last_sample_at: Date | null;
}

export interface SummaryRow extends SampleStats {
  avg_quality_score: number | null;
  samples: number;
  scored_samples: number;
  sample_avg_quality_score: number | null;
}

export async function summary(sql: Sql, callId: string): Promise<SummaryRow> {
  const { rows } = await sql.query<SummaryRow>(
    `SELECT c.avg_quality_score,
            coalesce(sum(r.samples), 0) AS samples, coalesce(sum(r.score_n), 0) AS scored_samples,
            round(sum(r.score_sum) / nullif(sum(r.score_n), 0), 2) AS sample_avg_quality_score,
            min(r.score_min) AS min_quality_score,
            round(sum(r.loss_sum) / nullif(sum(r.loss_n), 0), 2) AS avg_packet_loss_percent,
            max(r.loss_max) AS max_packet_loss_percent,
            round(sum(r.latency_sum) / nullif(sum(r.latency_n), 0), 1) AS avg_latency_ms,
            max(r.latency_max) AS max_latency_ms,
            round(sum(r.jitter_sum) / nullif(sum(r.jitter_n), 0), 1) AS avg_jitter_ms,
            max(r.jitter_max) AS max_jitter_ms,
            min(r.first_at) AS first_sample_at, max(r.last_at) AS last_sample_at
       FROM calls c LEFT JOIN quality_rollups r ON r.call_id = c.call_id
      WHERE c.call_id = $1
      GROUP BY c.call_id, c.avg_quality_score`,
    [callId],
  );
  return rows[0]!;
}

export interface ParticipantStatsRow extends SampleStats {
  participant_id: string;
  user_id: string | null;
  identity: string;
  display_name: string | null;
  samples: number;
  avg_quality_score: number | null;
}

export async function participantStats(sql: Sql, callId: string): Promise<ParticipantStatsRow[]> {
  const { rows } = await sql.query<ParticipantStatsRow>(
    `SELECT p.participant_id, p.user_id, p.identity, p.display_name, r.samples,
            round(r.score_sum / nullif(r.score_n, 0), 2) AS avg_quality_score, r.score_min AS min_quality_score,
            round(r.loss_sum / nullif(r.loss_n, 0), 2) AS avg_packet_loss_percent, r.loss_max AS max_packet_loss_percent,
            round(r.latency_sum / nullif(r.latency_n, 0), 1) AS avg_latency_ms, r.latency_max AS max_latency_ms,
            round(r.jitter_sum / nullif(r.jitter_n, 0), 1) AS avg_jitter_ms, r.jitter_max AS max_jitter_ms,
            r.first_at AS first_sample_at, r.last_at AS last_sample_at
       FROM quality_rollups r JOIN call_participants p ON p.participant_id = r.participant_id
      WHERE r.call_id = $1
      ORDER BY p.created_at, p.participant_id`,
    [callId],
  );
  return rows;
}

export interface SeriesRow {
  bucket_start: Date;
  samples: number;
  avg_quality_score: number | null;
  min_quality_score: number | null;
  avg_packet_loss_percent: number | null;
  avg_latency_ms: number | null;
  avg_jitter_ms: number | null;
}

export async function series(sql: Sql, callId: string, bucketSeconds: number, from: Date, to: Date): Promise<SeriesRow[]> {
  const { rows } = await sql.query<SeriesRow>('SELECT * FROM app.quality_series($1, $2, $3, $4)', [
    callId,
    bucketSeconds,
    from,
    to,
  ]);
  return rows;
}
