// SQL of usage and quality for operators, read from the rollups of migrations 008 and
// 009 (a few rows per day, never the session or sample history). Sessions still open
// are added here, up to `now`, from the people connected now (usage_open_keys, kept by
// the same triggers, migration 017): the time they would add if they closed now, as
// the triggers' app.usage_key_days / app.usage_key_marks would write it.
// Days are UTC dates; a range is [from, to) with `to` exclusive.
import type { Sql } from '../../db/database.ts';
import type { SampleStats } from '../quality/quality.repo.ts';

// The open sessions' time up to `now`, from usage_open_keys (migration 017): per call,
// user and day of the range, the time (dms) and the people-with-time (dp) they add
// to the rollups. People are grouped by call, user and the UTC day their open time
// began: n people since t_i add n * (end - midnight) - sum(t_i - midnight) on that day
// and n whole days (or n * (now - midnight) today) after it, so 20,000 guests of a
// webinar room are one row. The few people with closed time after `since` (a
// reconnect's overlap) or on the same days take that time and those days back out.
// `filter` narrows the people (a call, a user) with a condition on usage_open_keys k.
const OPEN_KD = (filter: string) => `
  open_last AS (SELECT (($3::timestamptz - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS day),
  -- One pass over the people: grouped by call, user, start day and first minute mark
  -- (the peak's steps); open_gd regroups these few rows by start day.
  open_marks AS MATERIALIZED (
    SELECT k.call_id, k.user_id, k.sday, k.first_mark, count(*) AS n, sum(k.since_s) AS since_s
      FROM usage_open_keys k WHERE k.since < $3::timestamptz${filter}
     GROUP BY 1, 2, 3, 4),
  open_groups AS (
    SELECT call_id, user_id, sday, sum(n) AS n, sum(since_s) AS since_s FROM open_marks GROUP BY 1, 2, 3),
  -- Along usage_open_keys_adjusted_idx: the few people with more than arithmetic.
  open_adjusted AS MATERIALIZED (
    SELECT k.call_id, k.user_id, k.covered, k.closed_days FROM usage_open_keys k
     WHERE (k.covered <> '{}'::tstzmultirange OR k.closed_days <> '{}'::date[]) AND k.since < $3::timestamptz${filter}),
  open_gd AS (
    SELECT g.call_id, g.user_id, d.day,
           round(1000 * (g.n * date_part('epoch', least($3::timestamptz, app.utc_day_start(d.day + 1)) - app.utc_day_start(d.day))
                         - CASE WHEN d.day = g.sday THEN g.since_s ELSE 0 END)) AS ms,
           g.n AS p
      FROM open_groups g, open_last l
     CROSS JOIN LATERAL (SELECT g.sday + i AS day
                           FROM generate_series(greatest($1::date - g.sday, 0), least(l.day, $2::date - 1) - g.sday) AS i) d),
  open_adj AS (
    SELECT k.call_id, k.user_id, x.day, -x.ms AS ms, -x.p AS p
      FROM open_adjusted k, open_last l
     CROSS JOIN LATERAL (
       SELECT z.day, sum(z.ms) AS ms, sum(z.p) AS p FROM (
         SELECT c.day, c.ms, 0 AS p FROM app.usage_days_of(k.covered * tstzmultirange(tstzrange(NULL, $3::timestamptz))) c
         UNION ALL
         SELECT cd, 0, 1 FROM unnest(k.closed_days) AS cd) z
        WHERE z.day >= $1::date AND z.day < $2::date AND z.day <= l.day
        GROUP BY z.day) x),
  kd AS (
    SELECT call_id, user_id, day, sum(ms)::bigint AS dms, sum(p)::int AS dp
      FROM (SELECT * FROM open_gd UNION ALL SELECT * FROM open_adj) t
     GROUP BY call_id, user_id, day)`;

// Peak concurrency with the open sessions (open_marks of OPEN_KD), per day of the
// range. The count the open sessions add at a minute mark is a step function: +n at
// the first mark of the n people who began then, -1/+1 around the marks of a
// `covered` span (counted in the stored marks already), up to now. Its steps summed in mark order, at each step, at
// each stored mark and at each midnight, give it everywhere it can peak; a day's peak
// is the max of stored + open over its marks with open > 0 (elsewhere the stored peak
// stands), without listing every mark of every open session.
const OPEN_PEAK = () => `
  open_end AS (SELECT least($3::timestamptz, app.utc_day_start($2::date)) AS t),
  open_steps AS (
    SELECT minute, sum(d) AS d FROM (
      SELECT greatest(k.first_mark, app.utc_day_start($1::date)) AS minute, sum(k.n) AS d FROM open_marks k GROUP BY 1
      UNION ALL
      SELECT app.usage_first_mark(lower(r)), -1 FROM open_adjusted k, open_end e,
             unnest(k.covered * tstzmultirange(tstzrange(app.utc_day_start($1::date), e.t))) r
       WHERE k.covered <> '{}'::tstzmultirange
      UNION ALL
      SELECT app.usage_first_mark(upper(r)), 1 FROM open_adjusted k, open_end e,
             unnest(k.covered * tstzmultirange(tstzrange(app.utc_day_start($1::date), e.t))) r
       WHERE k.covered <> '{}'::tstzmultirange) s, open_end e
     WHERE s.minute < e.t
     GROUP BY minute),
  open_hull AS (SELECT min(minute) AS lo, (SELECT t FROM open_end) AS hi FROM open_steps),
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

/** People connected now and the calls they are in. */
export interface Now {
  participants: number;
  calls: number;
}

/** The deployment per day: time, people-in-calls, calls, peak concurrency; and now. */
export async function daily(sql: Sql, from: string, to: string, now: Date): Promise<{ days: DayRow[]; now: Now }> {
  const { rows } = await sql.query<DayRow & { now_participants: number; now_calls: number }>(
    `WITH ${OPEN_KD('')},
     live_call_day AS (
       SELECT call_id, day, sum(dms) AS dms, sum(dp) AS dp FROM kd GROUP BY call_id, day),
     live_day AS (
       SELECT l.day, sum(l.dms) AS ms, sum(l.dp) AS p,
              sum(((coalesce(l.participant_ms, 0) + l.dms) > 0)::int - (coalesce(l.participant_ms, 0) > 0)::int) AS c
         -- A lookup per (call, day) with open time (a join here sorted the whole rollup).
         FROM (SELECT l.*, (SELECT u.participant_ms FROM usage_call_days u WHERE u.call_id = l.call_id AND u.day = l.day) AS participant_ms
                 FROM live_call_day l) l
        GROUP BY l.day),
     roll AS (
       SELECT day, sum(participant_ms) AS ms, sum(participations) AS p, sum(calls) AS c
         FROM usage_days WHERE day >= $1::date AND day < $2::date GROUP BY day),
     ${OPEN_PEAK()}
     SELECT d.day::text AS day,
            (coalesce(roll.ms, 0) + coalesce(live_day.ms, 0))::bigint AS participant_ms,
            (coalesce(roll.p, 0) + coalesce(live_day.p, 0))::int AS participations,
            (coalesce(roll.c, 0) + coalesce(live_day.c, 0))::int AS calls,
            greatest(coalesce(stored.peak, 0), coalesce(open_peak.peak, 0))::int AS peak_concurrent,
            live_now.participants AS now_participants, live_now.calls AS now_calls
       FROM (${DAYS}) d
       CROSS JOIN (SELECT coalesce(sum(n), 0)::int AS participants, count(DISTINCT call_id)::int AS calls FROM open_groups) live_now
       LEFT JOIN roll ON roll.day = d.day LEFT JOIN live_day ON live_day.day = d.day
       LEFT JOIN open_peak ON open_peak.day = d.day
       -- The day's peak (migration 018); a day whose peak a falling mark cleared is
       -- read from its minute marks until the repair sets it again.
       LEFT JOIN usage_day_peaks dp ON dp.day = d.day
       LEFT JOIN LATERAL (SELECT coalesce(dp.peak, (SELECT max(participants) FROM usage_minutes
                                                     WHERE dp.day IS NOT NULL AND dp.peak IS NULL
                                                       AND minute >= app.utc_day_start(d.day) AND minute < app.utc_day_start(d.day + 1))) AS peak) stored ON true
      ORDER BY d.day`,
    [from, to, now],
  );
  const first = rows[0];
  return {
    days: rows.map(({ now_participants: _p, now_calls: _c, ...d }) => d),
    now: { participants: first?.now_participants ?? 0, calls: first?.now_calls ?? 0 },
  };
}

/** One call (room) per day. */
export async function dailyForCall(sql: Sql, from: string, to: string, now: Date, callId: string): Promise<DayRow[]> {
  const { rows } = await sql.query<DayRow>(
    `WITH ${OPEN_KD(' AND k.call_id = $4')},
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
    `WITH ${OPEN_KD(' AND k.user_id = $4')},
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
    `WITH ${OPEN_KD('')},
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
    `WITH ${OPEN_KD(' AND k.user_id IS NOT NULL')},
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
 * the range. The candidates are ordered by (day, metric), the index's own order:
 * under the operator role's row-level security the planner does not treat `day`
 * as fixed by `day = d.day`, so ORDER BY the metric alone read and sorted each
 * day's every row (2,740 a day at 1M calls: 40 ms a request instead of 4).
 */
export async function worstCalls(sql: Sql, from: string, to: string, metric: Metric, limit: number): Promise<WorstCallRow[]> {
  const m = METRIC[metric];
  const { rows } = await sql.query<WorstCallRow>(
    `WITH cand AS (
       SELECT DISTINCT x.call_id FROM (${DAYS}) d
        CROSS JOIN LATERAL (SELECT call_id FROM quality_call_days
                             WHERE day = d.day AND ${m.column} IS NOT NULL ORDER BY day, ${m.dayOrder} LIMIT $3) x),
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
                             WHERE day = d.day AND ${m.column} IS NOT NULL ORDER BY day, ${m.dayOrder} LIMIT $3) x),
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
