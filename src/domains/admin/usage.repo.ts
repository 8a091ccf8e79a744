// SQL of usage and quality for operators, read from the rollups of migrations 008 and
// 009 (a few rows per day, never the session or sample history). Sessions still open
// are added here, up to `now`: the time they would add if they closed now, computed as
// the triggers' app.usage_key_days / app.usage_key_marks would (over their person's
// closed spans plus [first open join, now)), but set-based for all people at once.
// Days are UTC dates; a range is [from, to) with `to` exclusive.
import type { Sql } from '../../db/database.ts';
import type { SampleStats } from '../quality/quality.repo.ts';

// Open sessions grouped by person (a key): m_before is the person's closed spans,
// m_after adds [first open join, now). Set-based, one pass for every key: the
// per-key functions of the triggers (app.usage_key_days / usage_key_marks) cost a
// call and a hash table per key, seconds with 20,000 people connected. Only the days
// that can differ are computed: those of the one range of m_after that holds the open
// span (every other range is in m_before too, so its time cancels), clipped to the
// queried days; a day's pieces are cut at UTC midnight exactly as in usage_days_of,
// so the numbers are the same. `filter` narrows the open sessions (a call, a user).
const OPEN_KEYS = (filter: string) => `
  open_keys AS (
    SELECT call_id, identity, user_id, least(min(joined_at), $3::timestamptz) AS since
      FROM call_participants
     WHERE status = 'connected' AND joined_at IS NOT NULL AND left_at IS NULL${filter}
     GROUP BY call_id, identity, user_id),
  ks AS (
    SELECT o.call_id, o.identity, o.user_id, c.m AS m_before,
           c.m + tstzmultirange(tstzrange(o.since, $3::timestamptz)) AS m_after, o.since
      FROM open_keys o
     CROSS JOIN LATERAL (
       SELECT coalesce(range_agg(app.usage_span(p.joined_at, p.left_at)), '{}'::tstzmultirange) AS m
         FROM call_participants p
        WHERE p.call_id = o.call_id AND p.identity = o.identity AND p.user_id IS NOT DISTINCT FROM o.user_id
          AND p.left_at IS NOT NULL AND app.usage_span(p.joined_at, p.left_at) IS NOT NULL) c
     WHERE o.since < $3::timestamptz),
  -- People of a call (and user) with the same spans add the same time: computed once,
  -- counted n times (guests of a big room who joined together are one group).
  kg AS (
    SELECT row_number() OVER () AS g, call_id, user_id, m_before, m_after, since, n
      FROM (SELECT call_id, user_id, m_before, m_after, since, count(*) AS n FROM ks
             GROUP BY call_id, user_id, m_before, m_after, since) t),
  kw AS (
    SELECT kg.*, app.utc_day_start(w.lo) AS wlo, app.utc_day_start(w.hi) AS whi
      FROM kg CROSS JOIN LATERAL (
        SELECT greatest((lower(r) AT TIME ZONE 'UTC')::date, $1::date) AS lo,
               least(((upper(r) - interval '1 microsecond') AT TIME ZONE 'UTC')::date + 1, $2::date) AS hi
          FROM unnest(kg.m_after) r WHERE r @> tstzrange(kg.since, $3::timestamptz)) w
     WHERE w.lo < w.hi),
  pieces AS (
    SELECT g, call_id, user_id, n, true AS after, r.span FROM kw, unnest(m_after * tstzmultirange(tstzrange(wlo, whi))) r(span)
    UNION ALL
    SELECT g, call_id, user_id, n, false, r.span FROM kw, unnest(m_before * tstzmultirange(tstzrange(wlo, whi))) r(span)),
  piece_days AS (
    SELECT p.g, p.call_id, p.user_id, p.n, p.after, d.day,
           round(extract(epoch FROM upper(x.piece) - lower(x.piece)) * 1000) AS ms
      FROM pieces p
     CROSS JOIN LATERAL generate_series(0, ((upper(p.span) - interval '1 microsecond') AT TIME ZONE 'UTC')::date
                                          - (lower(p.span) AT TIME ZONE 'UTC')::date) AS i(n)
     CROSS JOIN LATERAL (SELECT (lower(p.span) AT TIME ZONE 'UTC')::date + i.n AS day) AS d
     CROSS JOIN LATERAL (SELECT p.span * tstzrange(app.utc_day_start(d.day), app.utc_day_start(d.day + 1)) AS piece) AS x
     WHERE NOT isempty(x.piece)),
  -- Per group and day that differs: the time (dms) and people-with-time (dp) it adds.
  kd AS (
    SELECT call_id, user_id, day, n * (ms_after - ms_before) AS dms, n * ((ms_after > 0)::int - (ms_before > 0)::int) AS dp
      FROM (SELECT g, call_id, user_id, n, day, coalesce(sum(ms) FILTER (WHERE NOT after), 0)::bigint AS ms_before,
                   coalesce(sum(ms) FILTER (WHERE after), 0)::bigint AS ms_after
              FROM piece_days GROUP BY g, call_id, user_id, n, day) t
     WHERE ms_before <> ms_after)`;

// Peak concurrency with the open sessions, per day of the range: the open part
// (m_after - m_before) covers whole runs of minute marks, so the count it adds is a
// step function; its steps (+1 at a run's first mark, -1 after its last) summed in
// mark order give it at every step, at each stored mark and at each midnight. A day's
// peak is the max of stored + open over the marks with open > 0 (elsewhere the stored
// peak stands), without listing every mark of every open session.
const OPEN_PEAK = () => `
  open_runs AS (
    SELECT kg.n, CASE WHEN b.f = lower(r.span) THEN b.f ELSE b.f + interval '1 minute' END AS a,
           CASE WHEN e.f = upper(r.span) THEN e.f ELSE e.f + interval '1 minute' END AS z
      FROM kg, unnest((m_after - m_before) * tstzmultirange(tstzrange(app.utc_day_start($1::date), app.utc_day_start($2::date)))) r(span)
     CROSS JOIN LATERAL (SELECT date_bin(interval '1 minute', lower(r.span), timestamptz '2000-01-01 00:00:00+00') AS f) b
     CROSS JOIN LATERAL (SELECT date_bin(interval '1 minute', upper(r.span), timestamptz '2000-01-01 00:00:00+00') AS f) e),
  open_steps AS (
    SELECT minute, sum(d) AS d FROM (
      SELECT a AS minute, n AS d FROM open_runs WHERE a < z
      UNION ALL SELECT z, -n FROM open_runs WHERE a < z) s
     GROUP BY minute),
  open_hull AS (SELECT min(minute) AS lo, max(minute) AS hi FROM open_steps),
  open_points AS (
    SELECT coalesce(s.minute, u.minute, m.minute) AS minute, coalesce(s.d, 0) AS d, coalesce(u.participants, 0) AS stored
      FROM open_steps s
      FULL JOIN (SELECT u.minute, u.participants FROM usage_minutes u, open_hull h
                  WHERE u.minute >= h.lo AND u.minute < h.hi) u ON u.minute = s.minute
      FULL JOIN (SELECT app.utc_day_start(d.day) AS minute FROM (${DAYS}) d, open_hull h
                  WHERE app.utc_day_start(d.day) >= h.lo AND app.utc_day_start(d.day) < h.hi) m
        ON m.minute = coalesce(s.minute, u.minute)),
  open_at AS (SELECT minute, stored, sum(d) OVER (ORDER BY minute) AS open FROM open_points),
  open_peak AS (
    SELECT (minute AT TIME ZONE 'UTC')::date AS day, max(stored + open) AS peak FROM open_at WHERE open > 0 GROUP BY 1)`;

const DAYS = `SELECT $1::date + i AS day FROM generate_series(0, $2::date - $1::date - 1) AS i`;

/**
 * These statements' cost estimates (functions over multiranges and arrays) are far
 * above their real cost, enough to trigger JIT compilation on PostgreSQL, which costs
 * hundreds of milliseconds; they run interpreted. Transaction-local.
 */
export async function interpreted(sql: Sql): Promise<void> {
  await sql.query(`SELECT set_config('jit', 'off', true)`);
}

export interface DayRow {
  day: string;
  participant_ms: number;
  participations: number;
  calls: number;
  peak_concurrent: number | null;
}

/** The deployment per day: time, people-in-calls, calls, peak concurrency. */
export async function daily(sql: Sql, from: string, to: string, now: Date): Promise<DayRow[]> {
  const { rows } = await sql.query<DayRow>(
    `WITH ${OPEN_KEYS('')},
     live_call_day AS (
       SELECT call_id, day, sum(dms) AS dms, sum(dp) AS dp FROM kd GROUP BY call_id, day),
     live_day AS (
       SELECT l.day, sum(l.dms) AS ms, sum(l.dp) AS p,
              sum(((coalesce(u.participant_ms, 0) + l.dms) > 0)::int - (coalesce(u.participant_ms, 0) > 0)::int) AS c
         FROM live_call_day l LEFT JOIN usage_call_days u ON u.call_id = l.call_id AND u.day = l.day
        GROUP BY l.day),
     roll AS (
       SELECT day, sum(participant_ms) AS ms, sum(participations) AS p, sum(calls) AS c
         FROM usage_days WHERE day >= $1::date AND day < $2::date GROUP BY day),
     ${OPEN_PEAK()}
     SELECT d.day::text AS day,
            (coalesce(roll.ms, 0) + coalesce(live_day.ms, 0))::bigint AS participant_ms,
            (coalesce(roll.p, 0) + coalesce(live_day.p, 0))::int AS participations,
            (coalesce(roll.c, 0) + coalesce(live_day.c, 0))::int AS calls,
            greatest(coalesce(stored.peak, 0), coalesce(open_peak.peak, 0))::int AS peak_concurrent
       FROM (${DAYS}) d
       LEFT JOIN roll ON roll.day = d.day LEFT JOIN live_day ON live_day.day = d.day
       LEFT JOIN open_peak ON open_peak.day = d.day
       -- A range scan of the day's minute marks each: no sort, no hash over the range.
       LEFT JOIN LATERAL (SELECT max(participants) AS peak FROM usage_minutes
                           WHERE minute >= app.utc_day_start(d.day) AND minute < app.utc_day_start(d.day + 1)) stored ON true
      ORDER BY d.day`,
    [from, to, now],
  );
  return rows;
}

/** One call (room) per day. */
export async function dailyForCall(sql: Sql, from: string, to: string, now: Date, callId: string): Promise<DayRow[]> {
  const { rows } = await sql.query<DayRow>(
    `WITH ${OPEN_KEYS(' AND call_id = $4')},
     live AS (SELECT day, sum(dms) AS dms, sum(dp) AS dp
                FROM kd GROUP BY day),
     roll AS (SELECT day, participant_ms AS ms, participations AS p FROM usage_call_days
               WHERE call_id = $4 AND day >= $1::date AND day < $2::date)
     SELECT d.day::text AS day, (coalesce(roll.ms, 0) + coalesce(live.dms, 0))::bigint AS participant_ms,
            (coalesce(roll.p, 0) + coalesce(live.dp, 0))::int AS participations,
            ((coalesce(roll.ms, 0) + coalesce(live.dms, 0)) > 0)::int AS calls, NULL::int AS peak_concurrent
       FROM (${DAYS}) d LEFT JOIN roll ON roll.day = d.day LEFT JOIN live ON live.day = d.day
      ORDER BY d.day`,
    [from, to, now, callId],
  );
  return rows;
}

/** One user per day (participations: the user's calls of the day). */
export async function dailyForUser(sql: Sql, from: string, to: string, now: Date, userId: string): Promise<DayRow[]> {
  const { rows } = await sql.query<DayRow>(
    `WITH ${OPEN_KEYS(' AND user_id = $4')},
     live AS (SELECT day, sum(dms) AS dms, sum(dp) AS dc
                FROM kd GROUP BY day),
     roll AS (SELECT day, participant_ms AS ms, calls AS c FROM usage_user_days
               WHERE user_id = $4 AND day >= $1::date AND day < $2::date)
     SELECT d.day::text AS day, (coalesce(roll.ms, 0) + coalesce(live.dms, 0))::bigint AS participant_ms,
            (coalesce(roll.c, 0) + coalesce(live.dc, 0))::int AS participations,
            (coalesce(roll.c, 0) + coalesce(live.dc, 0))::int AS calls, NULL::int AS peak_concurrent
       FROM (${DAYS}) d LEFT JOIN roll ON roll.day = d.day LEFT JOIN live ON live.day = d.day
      ORDER BY d.day`,
    [from, to, now, userId],
  );
  return rows;
}

export interface RoomUsageRow {
  call_id: string;
  room_name: string;
  name: string;
  status: string;
  participant_ms: number;
  days_active: number;
}

/** Rooms with the most participant time in the range. */
export async function topRooms(sql: Sql, from: string, to: string, now: Date, limit: number): Promise<RoomUsageRow[]> {
  const { rows } = await sql.query<RoomUsageRow>(
    `WITH ${OPEN_KEYS('')},
     per_day AS (
       SELECT call_id, day, participant_ms AS ms FROM usage_call_days WHERE day >= $1::date AND day < $2::date
       UNION ALL
       SELECT call_id, day, dms FROM kd),
     tot AS (
       SELECT call_id, sum(ms)::bigint AS ms, count(DISTINCT day)::int AS days FROM per_day
        GROUP BY call_id HAVING sum(ms) > 0 ORDER BY 2 DESC, call_id LIMIT $4)
     SELECT tot.call_id, c.room_name, c.name, c.status, tot.ms AS participant_ms, tot.days AS days_active
       FROM tot JOIN calls c ON c.call_id = tot.call_id
      ORDER BY tot.ms DESC, tot.call_id`,
    [from, to, now, limit],
  );
  return rows;
}

export interface UserUsageRow {
  user_id: string;
  display_name: string | null;
  aura_id: string | null;
  participant_ms: number;
  call_days: number;
}

/** Users with the most participant time in the range. */
export async function topUsers(sql: Sql, from: string, to: string, now: Date, limit: number): Promise<UserUsageRow[]> {
  const { rows } = await sql.query<UserUsageRow>(
    `WITH ${OPEN_KEYS(' AND user_id IS NOT NULL')},
     per_day AS (
       SELECT user_id, participant_ms AS ms, calls AS c FROM usage_user_days WHERE day >= $1::date AND day < $2::date
       UNION ALL
       SELECT user_id, dms, dp FROM kd),
     tot AS (
       SELECT user_id, sum(ms)::bigint AS ms, sum(c)::int AS c FROM per_day
        GROUP BY user_id HAVING sum(ms) > 0 ORDER BY 2 DESC, user_id LIMIT $4)
     SELECT tot.user_id, u.display_name, u.aura_id, tot.ms AS participant_ms, tot.c AS call_days
       FROM tot LEFT JOIN users u ON u.user_id = tot.user_id
      ORDER BY tot.ms DESC, tot.user_id`,
    [from, to, now, limit],
  );
  return rows;
}

/** People connected now and the calls they are in. */
export async function now(sql: Sql): Promise<{ participants: number; calls: number }> {
  const { rows } = await sql.query<{ participants: number; calls: number }>(
    `SELECT count(DISTINCT (call_id, identity))::int AS participants, count(DISTINCT call_id)::int AS calls
       FROM call_participants WHERE status = 'connected' AND joined_at IS NOT NULL AND left_at IS NULL`,
  );
  return rows[0]!;
}

export type Metric = 'mos' | 'packet_loss' | 'rtt';

// Per metric: the per-day index it walks (column and order) and the range order.
const METRIC: Record<Metric, { column: string; dayOrder: string; order: string }> = {
  mos: { column: 'avg_score', dayOrder: 'avg_score ASC', order: 'avg_quality_score ASC NULLS LAST' },
  packet_loss: { column: 'avg_loss', dayOrder: 'avg_loss DESC', order: 'avg_packet_loss_percent DESC NULLS LAST' },
  rtt: { column: 'avg_latency', dayOrder: 'avg_latency DESC', order: 'avg_latency_ms DESC NULLS LAST' },
};

const AGGREGATES = `sum(q.samples)::bigint AS samples,
       round(sum(q.score_sum) / nullif(sum(q.score_n), 0), 2)::float8 AS avg_quality_score,
       min(q.score_min)::float8 AS min_quality_score,
       round(sum(q.loss_sum) / nullif(sum(q.loss_n), 0), 2)::float8 AS avg_packet_loss_percent,
       max(q.loss_max)::float8 AS max_packet_loss_percent,
       round(sum(q.latency_sum) / nullif(sum(q.latency_n), 0), 1)::float8 AS avg_latency_ms,
       max(q.latency_max)::float8 AS max_latency_ms,
       round(sum(q.jitter_sum) / nullif(sum(q.jitter_n), 0), 1)::float8 AS avg_jitter_ms`;

/** The quality domain's sample statistics as the per-day rollups can give them. */
export interface QualityStats
  extends Pick<
    SampleStats,
    'min_quality_score' | 'avg_packet_loss_percent' | 'max_packet_loss_percent' | 'avg_latency_ms' | 'max_latency_ms' | 'avg_jitter_ms'
  > {
  samples: number;
  avg_quality_score: number | null;
}

export interface WorstCallRow extends QualityStats {
  call_id: string;
  room_name: string;
  name: string;
  status: string;
  started_at: Date | null;
}

/**
 * Worst calls of a range by their average over the range. Candidates are each day's
 * worst `limit` calls (an index scan per day on the day's averages), so the cost is
 * days x limit rows whatever the history holds; a call is ranked on all its days in
 * the range.
 */
export async function worstCalls(sql: Sql, from: string, to: string, metric: Metric, limit: number): Promise<WorstCallRow[]> {
  const m = METRIC[metric];
  const { rows } = await sql.query<WorstCallRow>(
    `WITH cand AS (
       SELECT DISTINCT x.call_id FROM (${DAYS}) d
        CROSS JOIN LATERAL (SELECT call_id FROM quality_call_days
                             WHERE day = d.day AND ${m.column} IS NOT NULL ORDER BY ${m.dayOrder} LIMIT $3) x),
     agg AS (
       SELECT q.call_id, ${AGGREGATES}
         FROM quality_call_days q JOIN cand ON cand.call_id = q.call_id
        WHERE q.day >= $1::date AND q.day < $2::date GROUP BY q.call_id),
     top AS (SELECT * FROM agg ORDER BY ${m.order}, call_id LIMIT $3)
     SELECT top.*, c.room_name, c.name, c.status, c.started_at
       FROM top JOIN calls c ON c.call_id = top.call_id
      ORDER BY ${m.order}, top.call_id`,
    [from, to, limit],
  );
  return rows;
}

export interface WorstParticipantRow extends QualityStats {
  participant_id: string;
  call_id: string;
  user_id: string | null;
  identity: string;
  display_name: string | null;
  room_name: string;
}

/** Worst participant sessions of a range, chosen like worstCalls. */
export async function worstParticipants(sql: Sql, from: string, to: string, metric: Metric, limit: number): Promise<WorstParticipantRow[]> {
  const m = METRIC[metric];
  const { rows } = await sql.query<WorstParticipantRow>(
    `WITH cand AS (
       SELECT DISTINCT x.participant_id FROM (${DAYS}) d
        CROSS JOIN LATERAL (SELECT participant_id FROM quality_participant_days
                             WHERE day = d.day AND ${m.column} IS NOT NULL ORDER BY ${m.dayOrder} LIMIT $3) x),
     agg AS (
       SELECT q.participant_id, ${AGGREGATES}
         FROM quality_participant_days q JOIN cand ON cand.participant_id = q.participant_id
        WHERE q.day >= $1::date AND q.day < $2::date GROUP BY q.participant_id),
     top AS (SELECT * FROM agg ORDER BY ${m.order}, participant_id LIMIT $3)
     SELECT top.*, p.call_id, p.user_id, p.identity, p.display_name, c.room_name
       FROM top JOIN call_participants p ON p.participant_id = top.participant_id
       JOIN calls c ON c.call_id = p.call_id
      ORDER BY ${m.order}, top.participant_id`,
    [from, to, limit],
  );
  return rows;
}
