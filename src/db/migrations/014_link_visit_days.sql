-- Invite links' clicks and unique visitors per UTC day, for plotting them over time.
--
-- The visitor hashes of 004 (link_visitors) are deleted with their day's salt by the
-- cleanup job, which is what keeps them from ever being tied to an address again; so
-- far only running totals on the link outlived them. Here each day keeps two counts
-- and nothing else: no hash, no address. They are written by app.link_visit itself, in
-- the same statement that counts the click, so a day's row can never disagree with the
-- totals on the link. A visitor is unique once per link and day, as in the totals:
-- link_visitors' key (link, day, visitor hash) decides it.
--
-- History before this migration is not split by day (only the totals existed); the
-- series starts with the first visit after it. PostgreSQL 15 features only; runs on
-- PGlite as well.

CREATE TABLE link_visit_days (
  link_id         uuid NOT NULL REFERENCES shareable_links (link_id) ON DELETE CASCADE,
  day             date NOT NULL,
  clicks          integer NOT NULL DEFAULT 0 CHECK (clicks >= 0),
  unique_visitors integer NOT NULL DEFAULT 0 CHECK (unique_visitors >= 0 AND unique_visitors <= clicks),
  PRIMARY KEY (link_id, day)
);

-- Same signature and result as 004's; adds the day's row in the same transaction.
CREATE OR REPLACE FUNCTION app.link_visit(p_code text, p_client text)
RETURNS TABLE (title text, description text, name text, call_type text, access_type text,
               requires_password boolean, require_approval boolean, expires_at timestamptz, live boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  l shareable_links;
  d date := (now() AT TIME ZONE 'UTC')::date;
  n integer;
BEGIN
  SELECT * INTO l FROM shareable_links WHERE short_code = p_code;
  IF NOT FOUND THEN RETURN; END IF;
  IF app.link_is_live(l) THEN
    INSERT INTO link_visitors (link_id, day, visitor)
    VALUES (l.link_id, d, app.visitor_hash(p_client))
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE shareable_links s SET total_clicks = s.total_clicks + 1, unique_visitors = s.unique_visitors + n
     WHERE s.link_id = l.link_id;
    INSERT INTO link_visit_days AS v (link_id, day, clicks, unique_visitors)
    VALUES (l.link_id, d, 1, n)
    ON CONFLICT (link_id, day) DO UPDATE SET clicks = v.clicks + 1, unique_visitors = v.unique_visitors + EXCLUDED.unique_visitors;
  END IF;
  RETURN QUERY
    SELECT l.title, l.description, c.name, c.call_type, l.access_type, l.access_type = 'password',
           l.require_approval, l.expires_at, app.link_is_live(l)
      FROM calls c WHERE c.call_id = l.call_id;
END $$;

-- The link's owner reads its days (as shareable_links: created_by = the caller);
-- operators read every link's, like the totals they already see (007). Written only by
-- the function above: no write policies, no write grants.
ALTER TABLE link_visit_days ENABLE ROW LEVEL SECURITY;
CREATE POLICY link_visit_days_select ON link_visit_days FOR SELECT USING (
  EXISTS (SELECT 1 FROM shareable_links l WHERE l.link_id = link_visit_days.link_id AND l.created_by = app.current_user_id()));
CREATE POLICY link_visit_days_operator ON link_visit_days FOR SELECT TO auralink_operator USING (true);
GRANT SELECT ON link_visit_days TO auralink_app, auralink_operator;
