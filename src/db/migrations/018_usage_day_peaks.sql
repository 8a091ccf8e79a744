-- Peak concurrency per UTC day, kept beside the minute marks (usage_minutes, 008) so
-- that a range's peaks are a row per day instead of 1,440 marks per day (a 30-day
-- usage query read 43,000 index entries for them; a year, half a million).
--
-- A statement trigger on usage_minutes keeps it: a mark that rises above its day's
-- peak raises the peak (an UPDATE ... WHERE peak < new, which takes the row only when
-- it raises it, so closes on the same day do not queue on one row). A mark that falls
-- from the peak cannot tell what the new peak is without the day's other marks, some
-- of which concurrent transactions may be raising: it clears the peak instead (NULL,
-- "not known"), readers take such a day's max from its marks, and the repair path
-- (app.usage_rebuild, under its exclusive lock, so nothing writes meanwhile) sets it
-- again. Marks only fall when sessions are corrected or deleted, so that is rare.
CREATE TABLE usage_day_peaks (
  day  date PRIMARY KEY,
  peak integer CHECK (peak > 0) -- NULL: a mark fell from it; read the day's marks
);
ALTER TABLE usage_day_peaks ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON usage_day_peaks TO auralink_operator;
CREATE POLICY usage_day_peaks_operator ON usage_day_peaks FOR SELECT TO auralink_operator USING (true);

CREATE FUNCTION app.usage_day_of_minute(p_minute timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (p_minute AT TIME ZONE 'UTC')::date
$$;

-- A minute mark's value and its day.
CREATE TYPE app.usage_day_value AS (day date, value integer);

-- Raises days' peaks to the highest of the given values where that is higher; creates
-- missing days.
CREATE FUNCTION app.usage_peaks_raise(p_up app.usage_day_value[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF coalesce(cardinality(p_up), 0) = 0 THEN RETURN; END IF;
  WITH m AS (SELECT day, max(value) AS peak FROM unnest(p_up) GROUP BY day HAVING max(value) > 0)
  INSERT INTO usage_day_peaks (day, peak) SELECT day, peak FROM m ORDER BY day ON CONFLICT (day) DO NOTHING;
  UPDATE usage_day_peaks t SET peak = m.peak
    FROM (SELECT day, max(value) AS peak FROM unnest(p_up) GROUP BY day) m
   WHERE t.day = m.day AND t.peak < m.peak;
END $$;

-- Clears the peaks of days where a mark fell from a value at or above the peak.
CREATE FUNCTION app.usage_peaks_clear(p_down app.usage_day_value[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF coalesce(cardinality(p_down), 0) = 0 THEN RETURN; END IF;
  UPDATE usage_day_peaks t SET peak = NULL
    FROM (SELECT day, max(value) AS was FROM unnest(p_down) GROUP BY day) m
   WHERE t.day = m.day AND t.peak <= m.was;
END $$;

-- One statement trigger function for the three events: marks written or raised go up,
-- marks lowered (their old value) or deleted go down.
CREATE FUNCTION app.usage_minutes_peaks() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  up app.usage_day_value[];
  down app.usage_day_value[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    up := array(SELECT ROW(app.usage_day_of_minute(n.minute), n.participants)::app.usage_day_value FROM new_rows n);
  ELSIF TG_OP = 'UPDATE' THEN
    up := array(SELECT ROW(app.usage_day_of_minute(n.minute), n.participants)::app.usage_day_value
                  FROM old_rows o JOIN new_rows n ON n.minute = o.minute WHERE n.participants > o.participants);
    down := array(SELECT ROW(app.usage_day_of_minute(o.minute), o.participants)::app.usage_day_value
                    FROM old_rows o JOIN new_rows n ON n.minute = o.minute WHERE n.participants < o.participants);
  ELSE
    down := array(SELECT ROW(app.usage_day_of_minute(o.minute), o.participants)::app.usage_day_value FROM old_rows o);
  END IF;
  PERFORM app.usage_peaks_clear(down);
  PERFORM app.usage_peaks_raise(up);
  RETURN NULL;
END $$;

CREATE TRIGGER usage_minutes_peaks_insert AFTER INSERT ON usage_minutes
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.usage_minutes_peaks();
CREATE TRIGGER usage_minutes_peaks_update AFTER UPDATE ON usage_minutes
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.usage_minutes_peaks();
CREATE TRIGGER usage_minutes_peaks_delete AFTER DELETE ON usage_minutes
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app.usage_minutes_peaks();

-- Sets the peaks of UTC days [p_from, p_to), and of every day whose peak was cleared,
-- from their marks; returns how many rows it changed. The caller holds the exclusive
-- lock 727006 (no session writes meanwhile).
CREATE FUNCTION app.usage_peaks_rebuild(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  WITH days AS (
    SELECT p_from + i AS day FROM generate_series(0, p_to - p_from - 1) AS i
    UNION SELECT day FROM usage_day_peaks WHERE peak IS NULL),
  want AS (
    SELECT d.day, (SELECT max(u.participants) FROM usage_minutes u
                    WHERE u.minute >= app.utc_day_start(d.day) AND u.minute < app.utc_day_start(d.day + 1)) AS peak
      FROM days d),
  del AS (DELETE FROM usage_day_peaks t USING want w WHERE t.day = w.day AND w.peak IS NULL RETURNING 1),
  up AS (INSERT INTO usage_day_peaks AS t (day, peak) SELECT day, peak FROM want WHERE peak IS NOT NULL
         ON CONFLICT (day) DO UPDATE SET peak = EXCLUDED.peak WHERE t.peak IS DISTINCT FROM EXCLUDED.peak
         RETURNING 1)
  SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM up) INTO n;
  RETURN n;
END $$;

-- usage_rebuild (008) rewrites the marks of its range; its peaks follow.
CREATE FUNCTION app.usage_rebuild_with_peaks(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF p_to <= p_from THEN RETURN 0; END IF;
  RETURN app.usage_rebuild(p_from, p_to) + app.usage_peaks_rebuild(p_from, p_to);
END $$;

REVOKE EXECUTE ON FUNCTION app.usage_peaks_raise(app.usage_day_value[]), app.usage_peaks_clear(app.usage_day_value[]),
  app.usage_minutes_peaks(), app.usage_peaks_rebuild(date, date), app.usage_rebuild_with_peaks(date, date) FROM PUBLIC;

-- The days recorded so far.
INSERT INTO usage_day_peaks (day, peak)
SELECT app.usage_day_of_minute(minute), max(participants) FROM usage_minutes GROUP BY 1 HAVING max(participants) > 0;
