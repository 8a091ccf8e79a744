// SQL of a call's story over time: what each session did (the media timeline of
// migration 002) and each session's quality, bucketed. Runs as the user: RLS on
// participant_media_events and quality_metrics already limits rows to calls the user
// may see; the service checks first that the call is one of the user's.
import type { Sql } from '../../db/database.ts';

export interface MediaEventRow {
  participant_id: string;
  source: string;
  action: 'published' | 'unpublished';
  occurred_at: Date;
}

/** A call's track publish/unpublish events in time order; at one instant "on" before "off" (bounded: a call's worth). */
export async function mediaEvents(sql: Sql, callId: string, limit = 10_000): Promise<MediaEventRow[]> {
  const { rows } = await sql.query<MediaEventRow>(
    `SELECT participant_id, source, action, occurred_at FROM participant_media_events
      WHERE call_id = $1 ORDER BY occurred_at, action, media_event_id LIMIT $2`,
    [callId, limit],
  );
  return rows;
}

export interface SampleSpan {
  first_at: Date | null;
  last_at: Date | null;
}

export async function sampleSpan(sql: Sql, callId: string): Promise<SampleSpan> {
  const { rows } = await sql.query<SampleSpan>(
    `SELECT min(recorded_at) AS first_at, max(recorded_at) AS last_at FROM quality_metrics WHERE call_id = $1`,
    [callId],
  );
  return rows[0] ?? { first_at: null, last_at: null };
}

export interface ParticipantPointRow {
  participant_id: string;
  bucket_start: Date;
  samples: number;
  rtt_ms: number | null;
  jitter_ms: number | null;
  packet_loss_percent: number | null;
  bitrate_kbps: number | null;
  mos: number | null;
}

/**
 * Each session's samples averaged per bucket of `bucketSeconds` (empty buckets are
 * absent). Bitrate is audio plus video, over the samples that carried either.
 */
export async function participantSeries(sql: Sql, callId: string, bucketSeconds: number): Promise<ParticipantPointRow[]> {
  const { rows } = await sql.query<ParticipantPointRow>(
    `SELECT participant_id, date_bin(make_interval(secs => $2), recorded_at, 'epoch'::timestamptz) AS bucket_start,
            count(*)::int AS samples,
            round(avg(latency_ms), 1)::float8 AS rtt_ms,
            round(avg(jitter_ms), 1)::float8 AS jitter_ms,
            round(avg(packet_loss_percent), 2)::float8 AS packet_loss_percent,
            round(avg(coalesce(audio_bitrate_kbps, 0) + coalesce(video_bitrate_kbps, 0))
                    FILTER (WHERE audio_bitrate_kbps IS NOT NULL OR video_bitrate_kbps IS NOT NULL), 1)::float8 AS bitrate_kbps,
            round(avg(quality_score), 2)::float8 AS mos
       FROM quality_metrics
      WHERE call_id = $1
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [callId, bucketSeconds],
  );
  return rows;
}
