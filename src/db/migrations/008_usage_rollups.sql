-- Usage rollups for operators: participant time and calls per UTC day, per call (a
-- room is one call here: room names are unique) and per user, and the number of
-- people connected at each minute mark (for peak concurrency). Kept current by
-- statement triggers on call_participants, in the transaction that writes a session,
-- so usage queries read a few rows per day instead of the session history.
--
-- What counts: a person is a (call, identity, user) key; the time a person was in a
-- call is the union of the spans [joined_at, left_at) of its closed sessions, so a
-- reconnect that overlaps the session it replaces, or a duplicate delivery, adds no
-- time. A span is cut at UTC midnight into its days. Open sessions are added at query
-- time, up to now, by the same functions. A trigger applies f(after) - f(before) for
-- the keys a statement touched; app.usage_rebuild() computes f from the raw sessions
-- of a range, for what bulk loads with triggers off (bench/dataset.ts) skipped.

-- Sessions that overlap a range, for the rebuild (the ones that ended after its start).
CREATE INDEX call_participants_left_idx ON call_participants (left_at) WHERE left_at IS NOT NULL;
-- Open sessions, for "now" and for adding them at query time.
CREATE INDEX call_participants_open_idx ON call_participants (call_id) WHERE status = 'connected';

CREATE TABLE usage_call_days (
  -- No foreign key: when a call is deleted, its sessions' delete trigger takes its time
  -- back out of every rollup (a cascade here would race that trigger).
  call_id        uuid NOT NULL,
  day            date NOT NULL,
  participant_ms bigint NOT NULL,
  participations integer NOT NULL, -- people with time in the call that day
  PRIMARY KEY (call_id, day)
);
CREATE INDEX usage_call_days_day_idx ON usage_call_days (day);

CREATE TABLE usage_user_days (
  user_id        uuid NOT NULL,
  day            date NOT NULL,
  participant_ms bigint NOT NULL,
  calls          integer NOT NULL, -- calls the user had time in that day
  PRIMARY KEY (user_id, day)
);
CREATE INDEX usage_user_days_day_idx ON usage_user_days (day);

-- Deployment totals per day, spread over 8 shards by call so that sessions closing at
-- the same time in different calls do not queue on one row; readers sum the shards.
CREATE TABLE usage_days (
  day            date NOT NULL,
  shard          smallint NOT NULL CHECK (shard BETWEEN 0 AND 7),
  participant_ms bigint NOT NULL,
  participations integer NOT NULL,
  calls          integer NOT NULL,
  PRIMARY KEY (day, shard)
);

-- People connected at each minute mark (hh:mm:00). A person counts at a mark when a
-- span covers it, so a day's peak is the most people connected at the same instant,
-- sampled once a minute.
CREATE TABLE usage_minutes (
  minute       timestamptz PRIMARY KEY,
  participants integer NOT NULL
);

-- A row exists only while its time is positive: the trigger deletes rows that reach
-- zero and the rebuild writes none, so both leave the same rows behind.

ALTER TABLE usage_call_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_user_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_minutes ENABLE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------- pure helpers
CREATE FUNCTION app.usage_span(p_joined timestamptz, p_left timestamptz) RETURNS tstzrange
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_joined IS NOT NULL AND p_left IS NOT NULL AND p_left > p_joined
              THEN tstzrange(p_joined, p_left) END
$$;

CREATE FUNCTION app.usage_shard(p_call uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (get_byte(uuid_send(p_call), 15) & 7)::smallint
$$;

CREATE FUNCTION app.utc_day_start(p_day date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_day::timestamp AT TIME ZONE 'UTC'
$$;

-- Milliseconds of a set of disjoint spans per UTC day (each piece rounded once).
CREATE FUNCTION app.usage_days_of(p_spans tstzmultirange) RETURNS TABLE (day date, ms bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT d.day, sum(round(extract(epoch FROM upper(x.piece) - lower(x.piece)) * 1000))::bigint
    FROM unnest(p_spans) AS r(span)
   CROSS JOIN LATERAL generate_series(0, ((upper(r.span) - interval '1 microsecond') AT TIME ZONE 'UTC')::date
                                        - (lower(r.span) AT TIME ZONE 'UTC')::date) AS i(n)
   CROSS JOIN LATERAL (SELECT (lower(r.span) AT TIME ZONE 'UTC')::date + i.n AS day) AS d
   CROSS JOIN LATERAL (SELECT r.span * tstzrange(app.utc_day_start(d.day), app.utc_day_start(d.day + 1)) AS piece) AS x
   WHERE NOT isempty(x.piece)
   GROUP BY d.day
$$;

-- The minute marks a set of spans covers.
CREATE FUNCTION app.usage_marks_of(p_spans tstzmultirange) RETURNS SETOF timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT g.mark
    FROM unnest(p_spans) AS r(span)
   CROSS JOIN LATERAL (SELECT date_bin(interval '1 minute', lower(r.span), timestamptz '2000-01-01 00:00:00+00') AS f) AS b
   CROSS JOIN LATERAL generate_series(
       CASE WHEN b.f = lower(r.span) THEN b.f ELSE b.f + interval '1 minute' END,
       upper(r.span) - interval '1 microsecond', interval '1 minute') AS g(mark)
$$;

-- ---------------------------------------------------------------- incremental upkeep
-- One changed session for one key: its span before the statement (NULL: none).
CREATE TYPE app.usage_change AS (participant_id uuid, call_id uuid, identity text, user_id uuid, old_span tstzrange);
-- One key's spans before and after the statement.
CREATE TYPE app.usage_key_spans AS (call_id uuid, user_id uuid, m_before tstzmultirange, m_after tstzmultirange);
-- One key's time on one day, before and after the statement.
CREATE TYPE app.usage_key_day AS (call_id uuid, user_id uuid, day date, ms_before bigint, ms_after bigint);

-- A person's spans as one multirange: the closed sessions of the key in the table now.
CREATE FUNCTION app.usage_person_spans(p_call uuid, p_identity text, p_user uuid) RETURNS tstzmultirange
LANGUAGE sql STABLE AS $$
  SELECT coalesce(range_agg(app.usage_span(p.joined_at, p.left_at)), '{}'::tstzmultirange)
    FROM call_participants p
   WHERE p.call_id = p_call AND p.identity = p_identity AND p.user_id IS NOT DISTINCT FROM p_user
     AND app.usage_span(p.joined_at, p.left_at) IS NOT NULL
$$;

-- Per key and day, the milliseconds before and after (only the days that differ).
CREATE FUNCTION app.usage_key_days(p_keys app.usage_key_spans[]) RETURNS SETOF app.usage_key_day
LANGUAGE sql STABLE AS $$
  SELECT s.call_id, s.user_id, d.day, coalesce(d.ms_before, 0), coalesce(d.ms_after, 0)
    FROM unnest(p_keys) s
   CROSS JOIN LATERAL (
     SELECT coalesce(a.day, b.day) AS day, b.ms AS ms_before, a.ms AS ms_after
       FROM app.usage_days_of(s.m_after) a FULL JOIN app.usage_days_of(s.m_before) b ON a.day = b.day) d
   WHERE coalesce(d.ms_before, 0) <> coalesce(d.ms_after, 0)
$$;

-- Per minute mark, the change in people connected: marks covered only after count +1,
-- marks covered only before count -1.
CREATE FUNCTION app.usage_key_marks(p_keys app.usage_key_spans[]) RETURNS TABLE (minute timestamptz, delta integer)
LANGUAGE sql STABLE AS $$
  SELECT m.minute, sum(m.d)::int
    FROM (SELECT g AS minute, 1 AS d FROM unnest(p_keys) s, app.usage_marks_of(s.m_after - s.m_before) g
          UNION ALL
          SELECT g, -1 FROM unnest(p_keys) s, app.usage_marks_of(s.m_before - s.m_after) g) m
   GROUP BY m.minute
  HAVING sum(m.d) <> 0
$$;

-- Applies f(after) - f(before) for the keys of p_changes. The key lock keeps two
-- transactions that change sessions of one person from both starting from the same
-- "before"; the shared lock 727006 lets app.usage_rebuild() (exclusive) run alone.
-- Rows are written in key order, so concurrent writers lock them in one order.
CREATE FUNCTION app.usage_apply(p_changes app.usage_change[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  ks app.usage_key_spans[];
  kd app.usage_key_day[];
  zero timestamptz[];
BEGIN
  IF coalesce(cardinality(p_changes), 0) = 0 THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock_shared(727006);
  PERFORM pg_advisory_xact_lock(hashtextextended('usage:' || k.call_id::text || '/' || k.identity, 0))
     FROM (SELECT DISTINCT c.call_id, c.identity FROM unnest(p_changes) c ORDER BY 1, 2) k;

  -- "Before" is the table now with the changed sessions put back as they were.
  WITH ch AS (SELECT * FROM unnest(p_changes)),
  keys AS (SELECT DISTINCT call_id, identity, user_id FROM ch)
  SELECT array_agg(ROW(k.call_id, k.user_id,
           coalesce((SELECT range_agg(s.span) FROM (
               SELECT app.usage_span(p.joined_at, p.left_at) AS span FROM call_participants p
                WHERE p.call_id = k.call_id AND p.identity = k.identity AND p.user_id IS NOT DISTINCT FROM k.user_id
                  AND NOT EXISTS (SELECT 1 FROM ch WHERE ch.participant_id = p.participant_id AND ch.call_id = k.call_id
                                    AND ch.identity = k.identity AND ch.user_id IS NOT DISTINCT FROM k.user_id)
               UNION ALL
               SELECT ch.old_span FROM ch WHERE ch.call_id = k.call_id AND ch.identity = k.identity
                                            AND ch.user_id IS NOT DISTINCT FROM k.user_id) s
             WHERE s.span IS NOT NULL), '{}'::tstzmultirange),
           app.usage_person_spans(k.call_id, k.identity, k.user_id))::app.usage_key_spans)
    INTO ks FROM keys k;

  SELECT array_agg(d ORDER BY d.call_id, d.day) INTO kd FROM app.usage_key_days(ks) d;
  IF kd IS NOT NULL THEN
    -- Per call and day; the returned rows tell whether the call gained or lost the day.
    WITH delta AS (
      SELECT call_id, day, sum(ms_after - ms_before)::bigint AS dms,
             sum((ms_after > 0)::int - (ms_before > 0)::int)::int AS dp
        FROM unnest(kd) GROUP BY call_id, day),
    up AS (
      INSERT INTO usage_call_days AS u (call_id, day, participant_ms, participations)
      SELECT call_id, day, dms, dp FROM delta ORDER BY call_id, day
      ON CONFLICT (call_id, day) DO UPDATE
        SET participant_ms = u.participant_ms + EXCLUDED.participant_ms,
            participations = u.participations + EXCLUDED.participations
      RETURNING u.call_id, u.day, u.participant_ms)
    INSERT INTO usage_days AS t (day, shard, participant_ms, participations, calls)
    SELECT up.day, app.usage_shard(up.call_id), sum(delta.dms), sum(delta.dp),
           sum((up.participant_ms > 0)::int - ((up.participant_ms - delta.dms) > 0)::int)
      FROM up JOIN delta ON delta.call_id = up.call_id AND delta.day = up.day
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, shard) DO UPDATE
      SET participant_ms = t.participant_ms + EXCLUDED.participant_ms,
          participations = t.participations + EXCLUDED.participations,
          calls = t.calls + EXCLUDED.calls;

    INSERT INTO usage_user_days AS u (user_id, day, participant_ms, calls)
    SELECT user_id, day, sum(ms_after - ms_before), sum((ms_after > 0)::int - (ms_before > 0)::int)
      FROM unnest(kd) WHERE user_id IS NOT NULL
     GROUP BY user_id, day ORDER BY user_id, day
    ON CONFLICT (user_id, day) DO UPDATE
      SET participant_ms = u.participant_ms + EXCLUDED.participant_ms, calls = u.calls + EXCLUDED.calls;

    DELETE FROM usage_call_days u USING unnest(kd) k
     WHERE u.call_id = k.call_id AND u.day = k.day AND u.participant_ms = 0 AND u.participations = 0;
    DELETE FROM usage_user_days u USING unnest(kd) k
     WHERE u.user_id = k.user_id AND u.day = k.day AND u.participant_ms = 0 AND u.calls = 0;
    DELETE FROM usage_days t USING unnest(kd) k
     WHERE t.day = k.day AND t.shard = app.usage_shard(k.call_id)
       AND t.participant_ms = 0 AND t.participations = 0 AND t.calls = 0;
  END IF;

  WITH up AS (
    INSERT INTO usage_minutes AS u (minute, participants)
    SELECT minute, delta FROM app.usage_key_marks(ks) ORDER BY minute
    ON CONFLICT (minute) DO UPDATE SET participants = u.participants + EXCLUDED.participants
    RETURNING u.minute, u.participants)
  SELECT array_agg(minute) INTO zero FROM up WHERE participants = 0;
  IF zero IS NOT NULL THEN
    DELETE FROM usage_minutes WHERE minute = ANY (zero) AND participants = 0;
  END IF;
END $$;

-- The statement triggers: collect what changed in the spans of sessions, nothing else
-- (media flags, seats handed out and joins of open sessions write nothing here).
CREATE FUNCTION app.usage_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM app.usage_apply(array(
    SELECT ROW(n.participant_id, n.call_id, n.identity, n.user_id, NULL)::app.usage_change
      FROM new_rows n WHERE app.usage_span(n.joined_at, n.left_at) IS NOT NULL));
  RETURN NULL;
END $$;

CREATE FUNCTION app.usage_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM app.usage_apply(array(
    WITH c AS (
      SELECT o.participant_id, o.call_id, o.identity AS o_identity, o.user_id AS o_user, n.identity AS n_identity,
             n.user_id AS n_user, app.usage_span(o.joined_at, o.left_at) AS o_span,
             app.usage_span(n.joined_at, n.left_at) AS n_span
        FROM old_rows o JOIN new_rows n ON n.participant_id = o.participant_id)
    -- Same person: one change when the span moved.
    SELECT ROW(participant_id, call_id, o_identity, o_user, o_span)::app.usage_change FROM c
     WHERE o_identity = n_identity AND o_user IS NOT DISTINCT FROM n_user AND o_span IS DISTINCT FROM n_span
    UNION ALL
    -- A session moved to another person: out of the old key, into the new one.
    SELECT ROW(participant_id, call_id, o_identity, o_user, o_span)::app.usage_change FROM c
     WHERE (o_identity <> n_identity OR o_user IS DISTINCT FROM n_user) AND o_span IS NOT NULL
    UNION ALL
    SELECT ROW(participant_id, call_id, n_identity, n_user, NULL)::app.usage_change FROM c
     WHERE (o_identity <> n_identity OR o_user IS DISTINCT FROM n_user) AND n_span IS NOT NULL));
  RETURN NULL;
END $$;

CREATE FUNCTION app.usage_after_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM app.usage_apply(array(
    SELECT ROW(o.participant_id, o.call_id, o.identity, o.user_id, app.usage_span(o.joined_at, o.left_at))::app.usage_change
      FROM old_rows o WHERE app.usage_span(o.joined_at, o.left_at) IS NOT NULL));
  RETURN NULL;
END $$;

CREATE TRIGGER call_participants_usage_insert AFTER INSERT ON call_participants
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.usage_after_insert();
CREATE TRIGGER call_participants_usage_update AFTER UPDATE ON call_participants
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.usage_after_update();
CREATE TRIGGER call_participants_usage_delete AFTER DELETE ON call_participants
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app.usage_after_delete();

-- ---------------------------------------------------------------- repair
-- Recomputes the rollups of UTC days [p_from, p_to) from the raw sessions and writes
-- only the rows that differ; returns how many rows it inserted, changed or deleted
-- (0 when the rollups were right). Exclusive lock 727006: session writes wait while
-- it runs, so nothing changes between reading and writing.
CREATE FUNCTION app.usage_rebuild(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  lo timestamptz := app.utc_day_start(p_from);
  hi timestamptz := app.utc_day_start(p_to);
  n integer;
  total integer := 0;
BEGIN
  IF p_to <= p_from THEN RETURN 0; END IF;
  PERFORM pg_advisory_xact_lock(727006);
  DROP TABLE IF EXISTS pg_temp.usage_rebuild_keys, pg_temp.usage_rebuild_days;
  -- Only spans that reach into the range matter: the others change nothing inside it.
  CREATE TEMP TABLE usage_rebuild_keys ON COMMIT DROP AS
    SELECT call_id, user_id, range_agg(app.usage_span(joined_at, left_at)) AS m
      FROM call_participants
     WHERE left_at > lo AND joined_at < hi AND app.usage_span(joined_at, left_at) IS NOT NULL
     GROUP BY call_id, identity, user_id;
  CREATE TEMP TABLE usage_rebuild_days ON COMMIT DROP AS
    SELECT k.call_id, k.user_id, d.day, d.ms
      FROM usage_rebuild_keys k, app.usage_days_of(k.m) d
     WHERE d.day >= p_from AND d.day < p_to AND d.ms > 0;

  WITH want AS (SELECT call_id, day, sum(ms)::bigint AS ms, count(*)::int AS p FROM usage_rebuild_days GROUP BY 1, 2),
  del AS (DELETE FROM usage_call_days u WHERE u.day >= p_from AND u.day < p_to
            AND NOT EXISTS (SELECT 1 FROM want w WHERE w.call_id = u.call_id AND w.day = u.day) RETURNING 1),
  up AS (INSERT INTO usage_call_days AS u (call_id, day, participant_ms, participations)
         SELECT call_id, day, ms, p FROM want
         ON CONFLICT (call_id, day) DO UPDATE SET participant_ms = EXCLUDED.participant_ms,
           participations = EXCLUDED.participations
         WHERE (u.participant_ms, u.participations) IS DISTINCT FROM (EXCLUDED.participant_ms, EXCLUDED.participations)
         RETURNING 1)
  SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM up) INTO n;
  total := total + n;

  WITH want AS (SELECT user_id, day, sum(ms)::bigint AS ms, count(*)::int AS c FROM usage_rebuild_days
                 WHERE user_id IS NOT NULL GROUP BY 1, 2),
  del AS (DELETE FROM usage_user_days u WHERE u.day >= p_from AND u.day < p_to
            AND NOT EXISTS (SELECT 1 FROM want w WHERE w.user_id = u.user_id AND w.day = u.day) RETURNING 1),
  up AS (INSERT INTO usage_user_days AS u (user_id, day, participant_ms, calls)
         SELECT user_id, day, ms, c FROM want
         ON CONFLICT (user_id, day) DO UPDATE SET participant_ms = EXCLUDED.participant_ms, calls = EXCLUDED.calls
         WHERE (u.participant_ms, u.calls) IS DISTINCT FROM (EXCLUDED.participant_ms, EXCLUDED.calls)
         RETURNING 1)
  SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM up) INTO n;
  total := total + n;

  WITH per_call AS (SELECT call_id, day, sum(ms)::bigint AS ms, count(*)::int AS p FROM usage_rebuild_days GROUP BY 1, 2),
  want AS (SELECT day, app.usage_shard(call_id) AS shard, sum(ms)::bigint AS ms, sum(p)::int AS p, count(*)::int AS c
             FROM per_call GROUP BY 1, 2),
  del AS (DELETE FROM usage_days t WHERE t.day >= p_from AND t.day < p_to
            AND NOT EXISTS (SELECT 1 FROM want w WHERE w.day = t.day AND w.shard = t.shard) RETURNING 1),
  up AS (INSERT INTO usage_days AS t (day, shard, participant_ms, participations, calls)
         SELECT day, shard, ms, p, c FROM want
         ON CONFLICT (day, shard) DO UPDATE SET participant_ms = EXCLUDED.participant_ms,
           participations = EXCLUDED.participations, calls = EXCLUDED.calls
         WHERE (t.participant_ms, t.participations, t.calls)
               IS DISTINCT FROM (EXCLUDED.participant_ms, EXCLUDED.participations, EXCLUDED.calls)
         RETURNING 1)
  SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM up) INTO n;
  total := total + n;

  WITH want AS (SELECT g AS minute, count(*)::int AS c FROM usage_rebuild_keys k, app.usage_marks_of(k.m) g
                 WHERE g >= lo AND g < hi GROUP BY 1),
  del AS (DELETE FROM usage_minutes u WHERE u.minute >= lo AND u.minute < hi
            AND NOT EXISTS (SELECT 1 FROM want w WHERE w.minute = u.minute) RETURNING 1),
  up AS (INSERT INTO usage_minutes AS u (minute, participants) SELECT minute, c FROM want
         ON CONFLICT (minute) DO UPDATE SET participants = EXCLUDED.participants
         WHERE u.participants <> EXCLUDED.participants
         RETURNING 1)
  SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM up) INTO n;
  total := total + n;
  RETURN total;
END $$;

-- Rollups for the sessions already recorded.
SELECT app.usage_rebuild(
  coalesce((SELECT (min(joined_at) AT TIME ZONE 'UTC')::date FROM call_participants), current_date),
  coalesce((SELECT (max(left_at) AT TIME ZONE 'UTC')::date + 1 FROM call_participants), current_date));

GRANT SELECT ON usage_call_days, usage_user_days, usage_days, usage_minutes TO auralink_operator;
CREATE POLICY usage_call_days_operator ON usage_call_days FOR SELECT TO auralink_operator USING (true);
CREATE POLICY usage_user_days_operator ON usage_user_days FOR SELECT TO auralink_operator USING (true);
CREATE POLICY usage_days_operator ON usage_days FOR SELECT TO auralink_operator USING (true);
CREATE POLICY usage_minutes_operator ON usage_minutes FOR SELECT TO auralink_operator USING (true);

REVOKE EXECUTE ON FUNCTION app.usage_apply(app.usage_change[]), app.usage_after_insert(), app.usage_after_update(),
  app.usage_after_delete(), app.usage_rebuild(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.usage_span(timestamptz, timestamptz), app.usage_shard(uuid), app.utc_day_start(date),
  app.usage_days_of(tstzmultirange), app.usage_marks_of(tstzmultirange),
  app.usage_person_spans(uuid, text, uuid), app.usage_key_days(app.usage_key_spans[]),
  app.usage_key_marks(app.usage_key_spans[]) TO auralink_operator;
