-- Call quality per UTC day, per call and per participant session, for the operators'
-- "worst calls and participants in a range": sums and counts (so averages over any
-- set of days are exact), the worst single values, and the day's averages as stored
-- columns with an index each, so the worst of a day is an index scan. Kept by a
-- statement trigger in the transaction that writes the samples; they outlive sample
-- retention like quality_rollups do. app.quality_days_rebuild() recomputes days from
-- the raw samples (bulk loads run with triggers off).

CREATE TABLE quality_call_days (
  call_id     uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  day         date NOT NULL,
  samples     bigint NOT NULL,
  score_n     bigint NOT NULL,
  score_sum   numeric NOT NULL,
  score_min   numeric(3, 2),
  loss_n      bigint NOT NULL,
  loss_sum    numeric NOT NULL,
  loss_max    numeric(5, 2),
  latency_n   bigint NOT NULL,
  latency_sum numeric NOT NULL,
  latency_max numeric(10, 2),
  jitter_n    bigint NOT NULL,
  jitter_sum  numeric NOT NULL,
  avg_score   numeric GENERATED ALWAYS AS (round(score_sum / nullif(score_n, 0), 2)) STORED,
  avg_loss    numeric GENERATED ALWAYS AS (round(loss_sum / nullif(loss_n, 0), 2)) STORED,
  avg_latency numeric GENERATED ALWAYS AS (round(latency_sum / nullif(latency_n, 0), 1)) STORED,
  PRIMARY KEY (call_id, day)
);
CREATE INDEX quality_call_days_score_idx ON quality_call_days (day, avg_score) WHERE avg_score IS NOT NULL;
CREATE INDEX quality_call_days_loss_idx ON quality_call_days (day, avg_loss DESC) WHERE avg_loss IS NOT NULL;
CREATE INDEX quality_call_days_latency_idx ON quality_call_days (day, avg_latency DESC) WHERE avg_latency IS NOT NULL;

CREATE TABLE quality_participant_days (
  participant_id uuid NOT NULL REFERENCES call_participants (participant_id) ON DELETE CASCADE,
  day            date NOT NULL,
  call_id        uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  samples        bigint NOT NULL,
  score_n        bigint NOT NULL,
  score_sum      numeric NOT NULL,
  score_min      numeric(3, 2),
  loss_n         bigint NOT NULL,
  loss_sum       numeric NOT NULL,
  loss_max       numeric(5, 2),
  latency_n      bigint NOT NULL,
  latency_sum    numeric NOT NULL,
  latency_max    numeric(10, 2),
  jitter_n       bigint NOT NULL,
  jitter_sum     numeric NOT NULL,
  avg_score      numeric GENERATED ALWAYS AS (round(score_sum / nullif(score_n, 0), 2)) STORED,
  avg_loss       numeric GENERATED ALWAYS AS (round(loss_sum / nullif(loss_n, 0), 2)) STORED,
  avg_latency    numeric GENERATED ALWAYS AS (round(latency_sum / nullif(latency_n, 0), 1)) STORED,
  PRIMARY KEY (participant_id, day)
);
CREATE INDEX quality_participant_days_call_idx ON quality_participant_days (call_id);
CREATE INDEX quality_participant_days_score_idx ON quality_participant_days (day, avg_score) WHERE avg_score IS NOT NULL;
CREATE INDEX quality_participant_days_loss_idx ON quality_participant_days (day, avg_loss DESC) WHERE avg_loss IS NOT NULL;
CREATE INDEX quality_participant_days_latency_idx ON quality_participant_days (day, avg_latency DESC)
  WHERE avg_latency IS NOT NULL;

ALTER TABLE quality_call_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE quality_participant_days ENABLE ROW LEVEL SECURITY;

-- Shared lock 727007: app.quality_days_rebuild() (exclusive) runs alone.
CREATE FUNCTION app.quality_days_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(727007);
  INSERT INTO quality_call_days AS q (call_id, day, samples, score_n, score_sum, score_min, loss_n, loss_sum, loss_max,
      latency_n, latency_sum, latency_max, jitter_n, jitter_sum)
  SELECT call_id, (recorded_at AT TIME ZONE 'UTC')::date, count(*),
         count(quality_score), coalesce(sum(quality_score), 0), min(quality_score),
         count(packet_loss_percent), coalesce(sum(packet_loss_percent), 0), max(packet_loss_percent),
         count(latency_ms), coalesce(sum(latency_ms), 0), max(latency_ms),
         count(jitter_ms), coalesce(sum(jitter_ms), 0)
    FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (call_id, day) DO UPDATE SET
    samples = q.samples + EXCLUDED.samples,
    score_n = q.score_n + EXCLUDED.score_n, score_sum = q.score_sum + EXCLUDED.score_sum,
    score_min = least(q.score_min, EXCLUDED.score_min),
    loss_n = q.loss_n + EXCLUDED.loss_n, loss_sum = q.loss_sum + EXCLUDED.loss_sum,
    loss_max = greatest(q.loss_max, EXCLUDED.loss_max),
    latency_n = q.latency_n + EXCLUDED.latency_n, latency_sum = q.latency_sum + EXCLUDED.latency_sum,
    latency_max = greatest(q.latency_max, EXCLUDED.latency_max),
    jitter_n = q.jitter_n + EXCLUDED.jitter_n, jitter_sum = q.jitter_sum + EXCLUDED.jitter_sum;

  INSERT INTO quality_participant_days AS q (participant_id, day, call_id, samples, score_n, score_sum, score_min,
      loss_n, loss_sum, loss_max, latency_n, latency_sum, latency_max, jitter_n, jitter_sum)
  SELECT participant_id, (recorded_at AT TIME ZONE 'UTC')::date, min(call_id::text)::uuid, count(*),
         count(quality_score), coalesce(sum(quality_score), 0), min(quality_score),
         count(packet_loss_percent), coalesce(sum(packet_loss_percent), 0), max(packet_loss_percent),
         count(latency_ms), coalesce(sum(latency_ms), 0), max(latency_ms),
         count(jitter_ms), coalesce(sum(jitter_ms), 0)
    FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (participant_id, day) DO UPDATE SET
    samples = q.samples + EXCLUDED.samples,
    score_n = q.score_n + EXCLUDED.score_n, score_sum = q.score_sum + EXCLUDED.score_sum,
    score_min = least(q.score_min, EXCLUDED.score_min),
    loss_n = q.loss_n + EXCLUDED.loss_n, loss_sum = q.loss_sum + EXCLUDED.loss_sum,
    loss_max = greatest(q.loss_max, EXCLUDED.loss_max),
    latency_n = q.latency_n + EXCLUDED.latency_n, latency_sum = q.latency_sum + EXCLUDED.latency_sum,
    latency_max = greatest(q.latency_max, EXCLUDED.latency_max),
    jitter_n = q.jitter_n + EXCLUDED.jitter_n, jitter_sum = q.jitter_sum + EXCLUDED.jitter_sum;
  RETURN NULL;
END $$;
CREATE TRIGGER quality_metrics_day_rollups AFTER INSERT ON quality_metrics
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.quality_days_apply();

-- Recomputes UTC days [p_from, p_to) from the samples, writing only rows that differ;
-- returns how many rows it inserted, changed or deleted. Only for days whose samples
-- are all still there: days past sample retention would lose their rollups (the
-- repair job stays inside the retention window).
CREATE FUNCTION app.quality_days_rebuild(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  lo timestamptz := app.utc_day_start(p_from);
  hi timestamptz := app.utc_day_start(p_to);
  n integer;
  total integer := 0;
BEGIN
  IF p_to <= p_from THEN RETURN 0; END IF;
  PERFORM pg_advisory_xact_lock(727007);
  WITH want AS (
    SELECT call_id, (recorded_at AT TIME ZONE 'UTC')::date AS day, count(*) AS samples,
           count(quality_score) AS score_n, coalesce(sum(quality_score), 0) AS score_sum, min(quality_score) AS score_min,
           count(packet_loss_percent) AS loss_n, coalesce(sum(packet_loss_percent), 0) AS loss_sum,
           max(packet_loss_percent) AS loss_max, count(latency_ms) AS latency_n,
           coalesce(sum(latency_ms), 0) AS latency_sum, max(latency_ms) AS latency_max,
           count(jitter_ms) AS jitter_n, coalesce(sum(jitter_ms), 0) AS jitter_sum
      FROM quality_metrics WHERE recorded_at >= lo AND recorded_at < hi GROUP BY 1, 2),
  del AS (DELETE FROM quality_call_days q WHERE q.day >= p_from AND q.day < p_to
            AND NOT EXISTS (SELECT 1 FROM want w WHERE w.call_id = q.call_id AND w.day = q.day) RETURNING 1),
  up AS (INSERT INTO quality_call_days AS q (call_id, day, samples, score_n, score_sum, score_min, loss_n, loss_sum,
           loss_max, latency_n, latency_sum, latency_max, jitter_n, jitter_sum)
         SELECT * FROM want
         ON CONFLICT (call_id, day) DO UPDATE SET samples = EXCLUDED.samples, score_n = EXCLUDED.score_n,
           score_sum = EXCLUDED.score_sum, score_min = EXCLUDED.score_min, loss_n = EXCLUDED.loss_n,
           loss_sum = EXCLUDED.loss_sum, loss_max = EXCLUDED.loss_max, latency_n = EXCLUDED.latency_n,
           latency_sum = EXCLUDED.latency_sum, latency_max = EXCLUDED.latency_max, jitter_n = EXCLUDED.jitter_n,
           jitter_sum = EXCLUDED.jitter_sum
         WHERE (q.samples, q.score_n, q.score_sum, q.score_min, q.loss_n, q.loss_sum, q.loss_max, q.latency_n,
                q.latency_sum, q.latency_max, q.jitter_n, q.jitter_sum)
               IS DISTINCT FROM (EXCLUDED.samples, EXCLUDED.score_n, EXCLUDED.score_sum, EXCLUDED.score_min,
                EXCLUDED.loss_n, EXCLUDED.loss_sum, EXCLUDED.loss_max, EXCLUDED.latency_n, EXCLUDED.latency_sum,
                EXCLUDED.latency_max, EXCLUDED.jitter_n, EXCLUDED.jitter_sum)
         RETURNING 1)
  SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM up) INTO n;
  total := total + n;

  WITH want AS (
    SELECT participant_id, (recorded_at AT TIME ZONE 'UTC')::date AS day, min(call_id::text)::uuid AS call_id,
           count(*) AS samples,
           count(quality_score) AS score_n, coalesce(sum(quality_score), 0) AS score_sum, min(quality_score) AS score_min,
           count(packet_loss_percent) AS loss_n, coalesce(sum(packet_loss_percent), 0) AS loss_sum,
           max(packet_loss_percent) AS loss_max, count(latency_ms) AS latency_n,
           coalesce(sum(latency_ms), 0) AS latency_sum, max(latency_ms) AS latency_max,
           count(jitter_ms) AS jitter_n, coalesce(sum(jitter_ms), 0) AS jitter_sum
      FROM quality_metrics WHERE recorded_at >= lo AND recorded_at < hi GROUP BY 1, 2),
  del AS (DELETE FROM quality_participant_days q WHERE q.day >= p_from AND q.day < p_to
            AND NOT EXISTS (SELECT 1 FROM want w WHERE w.participant_id = q.participant_id AND w.day = q.day) RETURNING 1),
  up AS (INSERT INTO quality_participant_days AS q (participant_id, day, call_id, samples, score_n, score_sum,
           score_min, loss_n, loss_sum, loss_max, latency_n, latency_sum, latency_max, jitter_n, jitter_sum)
         SELECT * FROM want
         ON CONFLICT (participant_id, day) DO UPDATE SET samples = EXCLUDED.samples, score_n = EXCLUDED.score_n,
           score_sum = EXCLUDED.score_sum, score_min = EXCLUDED.score_min, loss_n = EXCLUDED.loss_n,
           loss_sum = EXCLUDED.loss_sum, loss_max = EXCLUDED.loss_max, latency_n = EXCLUDED.latency_n,
           latency_sum = EXCLUDED.latency_sum, latency_max = EXCLUDED.latency_max, jitter_n = EXCLUDED.jitter_n,
           jitter_sum = EXCLUDED.jitter_sum
         WHERE (q.samples, q.score_n, q.score_sum, q.score_min, q.loss_n, q.loss_sum, q.loss_max, q.latency_n,
                q.latency_sum, q.latency_max, q.jitter_n, q.jitter_sum)
               IS DISTINCT FROM (EXCLUDED.samples, EXCLUDED.score_n, EXCLUDED.score_sum, EXCLUDED.score_min,
                EXCLUDED.loss_n, EXCLUDED.loss_sum, EXCLUDED.loss_max, EXCLUDED.latency_n, EXCLUDED.latency_sum,
                EXCLUDED.latency_max, EXCLUDED.jitter_n, EXCLUDED.jitter_sum)
         RETURNING 1)
  SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM up) INTO n;
  RETURN total + n;
END $$;

-- Rollups for the samples already recorded.
SELECT app.quality_days_rebuild(
  coalesce((SELECT (min(recorded_at) AT TIME ZONE 'UTC')::date FROM quality_metrics), current_date),
  coalesce((SELECT (max(recorded_at) AT TIME ZONE 'UTC')::date + 1 FROM quality_metrics), current_date));

GRANT SELECT ON quality_call_days, quality_participant_days TO auralink_operator;
CREATE POLICY quality_call_days_operator ON quality_call_days FOR SELECT TO auralink_operator USING (true);
CREATE POLICY quality_participant_days_operator ON quality_participant_days FOR SELECT TO auralink_operator USING (true);
REVOKE EXECUTE ON FUNCTION app.quality_days_apply(), app.quality_days_rebuild(date, date) FROM PUBLIC;
