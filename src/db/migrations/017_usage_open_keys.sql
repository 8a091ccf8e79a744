-- The people connected now, one row per person (call, identity, user), kept by the
-- same statement triggers that keep the usage rollups, in the writing transaction.
-- Operator usage queries add the open sessions' time up to `now` from these rows with
-- plain arithmetic (n people since t add n * (now - t)), instead of grouping the
-- open sessions and looking up every person's closed spans on each request: with
-- 20,000 people connected that lookup was most of a 30-day usage query's second.
--
-- What a person's open time adds on a day is |[since, now) on that day| minus the part
-- the rollups already hold: `covered`, the person's closed time from `since` on (the
-- session a reconnect replaced, which overlaps the new one). `closed_days` are the UTC
-- days from since's day on with closed time: the rollups already count the person in
-- that day's participations. Both are empty for almost everyone.
CREATE TABLE usage_open_keys (
  call_id     uuid NOT NULL,
  identity    text NOT NULL,
  user_id     uuid,
  since       timestamptz NOT NULL, -- the earliest join among the person's open sessions
  covered     tstzmultirange NOT NULL DEFAULT '{}',
  closed_days date[] NOT NULL DEFAULT '{}',
  -- since, precomputed for the queries, which group thousands of rows on them:
  sday        date NOT NULL,        -- its UTC day
  since_s     float8 NOT NULL,      -- seconds from that day's midnight
  first_mark  timestamptz NOT NULL, -- the first minute mark at or after it (peak concurrency)
  CONSTRAINT usage_open_keys_person UNIQUE NULLS NOT DISTINCT (call_id, identity, user_id)
);
CREATE INDEX usage_open_keys_user_idx ON usage_open_keys (user_id) WHERE user_id IS NOT NULL;
-- The few people whose rows need more than arithmetic.
CREATE INDEX usage_open_keys_adjusted_idx ON usage_open_keys (call_id)
  WHERE covered <> '{}'::tstzmultirange OR closed_days <> '{}'::date[];
ALTER TABLE usage_open_keys ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON usage_open_keys TO auralink_operator;
CREATE POLICY usage_open_keys_operator ON usage_open_keys FOR SELECT TO auralink_operator USING (true);

CREATE TYPE app.usage_person AS (call_id uuid, identity text, user_id uuid);

-- The first minute mark (hh:mm:00) at or after t: where an open span starts counting
-- in peak concurrency. One expression, so that the planner inlines it.
CREATE FUNCTION app.usage_first_mark(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_bin(interval '1 minute', t - interval '1 microsecond', timestamptz '2000-01-01 00:00:00+00') + interval '1 minute'
$$;

-- Locks the people a statement changes, in one order, before its first write: the
-- spans of some and the open sessions of others alike. A person's lock keeps two
-- transactions that change that person's sessions from both starting from the same
-- "before"; the shared lock 727006 lets the rebuilds (exclusive) run alone. A statement
-- that changes more than 64 people (a webinar room ending, a bulk delete) takes 727006
-- exclusively instead: a lock per person would be thousands of entries in the server's
-- shared lock table (64 per connection), which ran out ("out of shared memory") when
-- 100,000 sessions were deleted at once, failing that statement and others' alike.
CREATE FUNCTION app.usage_lock_people(p_people app.usage_person[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(DISTINCT (p.call_id, p.identity)) FROM unnest(p_people) p) > 64 THEN
    PERFORM pg_advisory_xact_lock(727006);
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock_shared(727006);
  PERFORM pg_advisory_xact_lock(hashtextextended('usage:' || k.call_id::text || '/' || k.identity, 0))
     FROM (SELECT DISTINCT p.call_id, p.identity FROM unnest(p_people) p ORDER BY 1, 2) k;
END $$;

-- 008's app.usage_apply without its own locks: app.usage_keep takes them first, for
-- the spans and the open sessions together (app.usage_lock_people).
CREATE OR REPLACE FUNCTION app.usage_apply(p_changes app.usage_change[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  ks app.usage_key_spans[];
  kd app.usage_key_day[];
  zero timestamptz[];
BEGIN
  IF coalesce(cardinality(p_changes), 0) = 0 THEN RETURN; END IF;

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
ALTER FUNCTION app.usage_apply(app.usage_change[]) SET jit = off;

-- What usage_open_keys should hold for some people, from their sessions in the table
-- now (none for a person with no open session).
CREATE FUNCTION app.usage_open_want(p_people app.usage_person[])
RETURNS TABLE (call_id uuid, identity text, user_id uuid, since timestamptz, covered tstzmultirange, closed_days date[],
               sday date, since_s float8, first_mark timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT k.call_id, k.identity, k.user_id, o.since,
         c.m * tstzmultirange(tstzrange(o.since, NULL)),
         coalesce(array(SELECT d.day FROM app.usage_days_of(c.m) d
                         WHERE d.day >= (o.since AT TIME ZONE 'UTC')::date AND d.ms > 0 ORDER BY d.day), '{}'),
         (o.since AT TIME ZONE 'UTC')::date,
         date_part('epoch', o.since - app.utc_day_start((o.since AT TIME ZONE 'UTC')::date)),
         app.usage_first_mark(o.since)
    FROM (SELECT DISTINCT p.call_id, p.identity, p.user_id FROM unnest(p_people) p) k
   -- min() over a subquery the planner may not flatten (OFFSET 0): otherwise it turns
   -- min() into the first row along the call's join-time index and walks every session
   -- connected to a webinar room to find this person's.
   CROSS JOIN LATERAL (
     SELECT min(s.joined_at) AS since FROM (
       SELECT p.joined_at FROM call_participants p
        WHERE p.call_id = k.call_id AND p.identity = k.identity AND p.user_id IS NOT DISTINCT FROM k.user_id
          AND p.status = 'connected' AND p.joined_at IS NOT NULL AND p.left_at IS NULL OFFSET 0) s) o
   CROSS JOIN LATERAL (
     SELECT coalesce(range_agg(app.usage_span(p.joined_at, p.left_at)), '{}'::tstzmultirange) AS m
       FROM call_participants p
      WHERE p.call_id = k.call_id AND p.identity = k.identity AND p.user_id IS NOT DISTINCT FROM k.user_id
        AND p.left_at IS NOT NULL AND app.usage_span(p.joined_at, p.left_at) IS NOT NULL) c
   WHERE o.since IS NOT NULL
$$;

-- Brings the rows of some people up to date; returns how many it inserted, changed or
-- deleted. The caller holds the people's locks (app.usage_lock_people). One person at
-- a time: each statement is an index lookup on the person, whatever the planner
-- believes of the table's size (a set-based DELETE ... USING unnest() was planned as a
-- scan of every person connected).
CREATE FUNCTION app.usage_open_sync(p_people app.usage_person[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
DECLARE
  n integer := 0;
  c integer;
  p app.usage_person;
  w record;
BEGIN
  FOR p IN SELECT DISTINCT x.call_id, x.identity, x.user_id FROM unnest(p_people) x ORDER BY 1, 2 LOOP
    SELECT * INTO w FROM app.usage_open_want(ARRAY[p]);
    IF NOT FOUND THEN
      DELETE FROM usage_open_keys u
       WHERE u.call_id = p.call_id AND u.identity = p.identity AND u.user_id IS NOT DISTINCT FROM p.user_id;
    ELSE
      INSERT INTO usage_open_keys AS u (call_id, identity, user_id, since, covered, closed_days, sday, since_s, first_mark)
      VALUES (w.call_id, w.identity, w.user_id, w.since, w.covered, w.closed_days, w.sday, w.since_s, w.first_mark)
      ON CONFLICT ON CONSTRAINT usage_open_keys_person DO UPDATE
        SET since = EXCLUDED.since, covered = EXCLUDED.covered, closed_days = EXCLUDED.closed_days,
            sday = EXCLUDED.sday, since_s = EXCLUDED.since_s, first_mark = EXCLUDED.first_mark
        WHERE (u.since, u.covered, u.closed_days) IS DISTINCT FROM (EXCLUDED.since, EXCLUDED.covered, EXCLUDED.closed_days);
    END IF;
    GET DIAGNOSTICS c = ROW_COUNT;
    n := n + c;
  END LOOP;
  RETURN n;
END $$;

-- The repair path: every person's row from the sessions (what a bulk load or a manual
-- fix with triggers off left out of date). Exclusive lock 727006, as usage_rebuild.
CREATE FUNCTION app.usage_open_rebuild() RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp SET jit = off AS $$
DECLARE
  people app.usage_person[];
BEGIN
  PERFORM pg_advisory_xact_lock(727006);
  SELECT array_agg(DISTINCT ROW(k.call_id, k.identity, k.user_id)::app.usage_person) INTO people FROM (
    SELECT call_id, identity, user_id FROM usage_open_keys
    UNION
    SELECT call_id, identity, user_id FROM call_participants
     WHERE status = 'connected' AND joined_at IS NOT NULL AND left_at IS NULL) k;
  RETURN app.usage_open_sync(people);
END $$;

-- The statement triggers of 008, now keeping both: the rollups (from span changes, as
-- before) and the open people (from changes of spans and of the open predicate).
CREATE FUNCTION app.usage_is_open(p_status text, p_joined timestamptz, p_left timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_status = 'connected' AND p_joined IS NOT NULL AND p_left IS NULL
$$;

CREATE FUNCTION app.usage_keep(p_changes app.usage_change[], p_people app.usage_person[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
BEGIN
  IF coalesce(cardinality(p_changes), 0) = 0 AND coalesce(cardinality(p_people), 0) = 0 THEN RETURN; END IF;
  PERFORM app.usage_lock_people(array(
    SELECT ROW(c.call_id, c.identity, c.user_id)::app.usage_person FROM unnest(p_changes) c
    UNION SELECT ROW(p.call_id, p.identity, p.user_id)::app.usage_person FROM unnest(p_people) p));
  PERFORM app.usage_apply(p_changes);
  PERFORM app.usage_open_sync(p_people);
END $$;

CREATE OR REPLACE FUNCTION app.usage_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM app.usage_keep(
    array(SELECT ROW(n.participant_id, n.call_id, n.identity, n.user_id, NULL)::app.usage_change
            FROM new_rows n WHERE app.usage_span(n.joined_at, n.left_at) IS NOT NULL),
    -- A new open session, or a closed one of a person connected now (its `covered`).
    array(SELECT DISTINCT ROW(n.call_id, n.identity, n.user_id)::app.usage_person FROM new_rows n
           WHERE app.usage_is_open(n.status, n.joined_at, n.left_at)
              OR (app.usage_span(n.joined_at, n.left_at) IS NOT NULL
                  AND EXISTS (SELECT 1 FROM usage_open_keys u WHERE u.call_id = n.call_id AND u.identity = n.identity
                                                               AND u.user_id IS NOT DISTINCT FROM n.user_id))));
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION app.usage_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM app.usage_keep(
    array(
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
       WHERE (o_identity <> n_identity OR o_user IS DISTINCT FROM n_user) AND n_span IS NOT NULL),
    -- Both people of a session whose openness, join time, span or person changed.
    array(
      WITH c AS (
        SELECT o.call_id, o.identity AS o_identity, o.user_id AS o_user, n.identity AS n_identity, n.user_id AS n_user
          FROM old_rows o JOIN new_rows n ON n.participant_id = o.participant_id
         WHERE app.usage_is_open(o.status, o.joined_at, o.left_at) IS DISTINCT FROM app.usage_is_open(n.status, n.joined_at, n.left_at)
            OR (app.usage_is_open(n.status, n.joined_at, n.left_at) AND o.joined_at IS DISTINCT FROM n.joined_at)
            OR app.usage_span(o.joined_at, o.left_at) IS DISTINCT FROM app.usage_span(n.joined_at, n.left_at)
            OR o.identity <> n.identity OR o.user_id IS DISTINCT FROM n.user_id)
      SELECT ROW(call_id, o_identity, o_user)::app.usage_person FROM c
      UNION
      SELECT ROW(call_id, n_identity, n_user)::app.usage_person FROM c));
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION app.usage_after_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM app.usage_keep(
    array(SELECT ROW(o.participant_id, o.call_id, o.identity, o.user_id, app.usage_span(o.joined_at, o.left_at))::app.usage_change
            FROM old_rows o WHERE app.usage_span(o.joined_at, o.left_at) IS NOT NULL),
    array(SELECT DISTINCT ROW(o.call_id, o.identity, o.user_id)::app.usage_person FROM old_rows o
           WHERE app.usage_is_open(o.status, o.joined_at, o.left_at) OR app.usage_span(o.joined_at, o.left_at) IS NOT NULL));
  RETURN NULL;
END $$;

REVOKE EXECUTE ON FUNCTION app.usage_lock_people(app.usage_person[]), app.usage_open_sync(app.usage_person[]),
  app.usage_open_rebuild(), app.usage_keep(app.usage_change[], app.usage_person[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.usage_first_mark(timestamptz), app.usage_is_open(text, timestamptz, timestamptz) TO auralink_operator;

-- The people connected already.
SELECT app.usage_open_rebuild();
