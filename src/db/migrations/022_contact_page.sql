-- A contacts page's ids and each contact's presence, in one call per page.
--
-- The page query called app.search_contacts (004) for the ids and then
-- app.contact_in_call (019) once per row. Both cost PostgreSQL far more than the rows:
-- search_contacts plans its query anew on every call (EXECUTE), and a SQL function that
-- is SECURITY DEFINER is never inlined, so contact_in_call, and is_blocked_by inside it,
-- were parsed and planned again in every page and switched the search_path setting in
-- and out for each of the 20 rows (40 times a page).
--
-- This is plpgsql with static queries for the plain list (no search, no tag): their
-- plans are kept by the connection and reused, the page and the presence of its rows
-- are one query, and the setting switches once. A search or tag filter keeps
-- search_contacts' EXECUTE with the actual values (the GIN index or the ordered one).
--
-- Same rules as before: only the caller's contacts (pinned to app.current_user_id(),
-- ids and a boolean out; the caller reads the rows under its own RLS scope), and a
-- contact who blocked the caller is never shown in a call. Presence reads the contact's
-- connected sessions first and each one's call by primary key (why: 019).
CREATE FUNCTION app.contact_page(p_q text, p_tag text, p_relationship text, p_favorite boolean,
    p_blocked boolean, p_after_at timestamptz, p_after_id uuid, p_limit integer)
RETURNS TABLE (contact_id uuid, in_call boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  me constant uuid := app.current_user_id();
  n constant integer := least(greatest(p_limit, 1), 1000);
BEGIN
  IF me IS NULL THEN RETURN; END IF;
  IF p_q IS NULL AND p_tag IS NULL AND p_after_at IS NULL THEN
    RETURN QUERY
      SELECT k.contact_id,
             NOT EXISTS (SELECT 1 FROM contacts b
                          WHERE b.user_id = k.contact_user_id AND b.contact_user_id = me AND b.is_blocked)
             AND EXISTS (SELECT 1 FROM call_participants p
                          WHERE p.user_id = k.contact_user_id AND p.status = 'connected'
                            AND (SELECT c.status FROM calls c WHERE c.call_id = p.call_id) IN ('waiting', 'active'))
        FROM contacts k
       WHERE k.user_id = me
         AND (p_relationship IS NULL OR k.relationship_type = p_relationship)
         AND (p_favorite IS NULL OR k.is_favorite = p_favorite)
         AND (p_blocked IS NULL OR k.is_blocked = p_blocked)
       ORDER BY k.created_at DESC, k.contact_id DESC
       LIMIT n;
  ELSIF p_q IS NULL AND p_tag IS NULL THEN
    RETURN QUERY
      SELECT k.contact_id,
             NOT EXISTS (SELECT 1 FROM contacts b
                          WHERE b.user_id = k.contact_user_id AND b.contact_user_id = me AND b.is_blocked)
             AND EXISTS (SELECT 1 FROM call_participants p
                          WHERE p.user_id = k.contact_user_id AND p.status = 'connected'
                            AND (SELECT c.status FROM calls c WHERE c.call_id = p.call_id) IN ('waiting', 'active'))
        FROM contacts k
       WHERE k.user_id = me
         AND (k.created_at, k.contact_id) < (p_after_at, p_after_id)
         AND (p_relationship IS NULL OR k.relationship_type = p_relationship)
         AND (p_favorite IS NULL OR k.is_favorite = p_favorite)
         AND (p_blocked IS NULL OR k.is_blocked = p_blocked)
       ORDER BY k.created_at DESC, k.contact_id DESC
       LIMIT n;
  ELSE
    RETURN QUERY EXECUTE
      'SELECT k.contact_id,
              NOT EXISTS (SELECT 1 FROM contacts b
                           WHERE b.user_id = k.contact_user_id AND b.contact_user_id = $1 AND b.is_blocked)
              AND EXISTS (SELECT 1 FROM call_participants p
                           WHERE p.user_id = k.contact_user_id AND p.status = ''connected''
                             AND (SELECT c.status FROM calls c WHERE c.call_id = p.call_id) IN (''waiting'', ''active''))
         FROM contacts k
        WHERE k.user_id = $1
          AND ($2::text IS NULL OR k.search_vector @@ app.contact_search_query($2))
          AND ($3::text IS NULL OR k.tags @> ARRAY[$3::text])
          AND ($4::text IS NULL OR k.relationship_type = $4)
          AND ($5::boolean IS NULL OR k.is_favorite = $5)
          AND ($6::boolean IS NULL OR k.is_blocked = $6)
          AND ($7::timestamptz IS NULL OR (k.created_at, k.contact_id) < ($7, $8))
        ORDER BY k.created_at DESC, k.contact_id DESC
        LIMIT $9'
    USING me, p_q, p_tag, p_relationship, p_favorite, p_blocked, p_after_at, p_after_id, n;
  END IF;
END $$;

REVOKE EXECUTE ON FUNCTION app.contact_page(text, text, text, boolean, boolean, timestamptz, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.contact_page(text, text, text, boolean, boolean, timestamptz, uuid, integer) TO auralink_app;
