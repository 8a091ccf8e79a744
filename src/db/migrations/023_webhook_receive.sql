-- The first step of applying a LiveKit webhook, in one statement instead of three or four
-- round trips: record the event id (a duplicate stops here), find the room's call, take
-- the call's lock, read the call under it, and note the room's LiveKit sid.
--
-- The order is the one every writer of a call agrees on (migration 012): the per-call
-- advisory lock first, before any row of the call is read for a decision or written.
-- plpgsql runs each statement of a VOLATILE function in a snapshot of its own, so the
-- call is read after the lock is held, as the separate statement after lockCall was:
-- a delivery that just ended the call is seen ended. A rollback (a failed apply)
-- removes the event id with everything else, so LiveKit's retry applies it again.
CREATE FUNCTION app.webhook_receive(p_event_id text, p_event text, p_room text, p_room_sid text)
RETURNS TABLE (fresh boolean, call_id uuid, room_id text, room_name text, status text, ended_at timestamptz)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_call uuid;
BEGIN
  INSERT INTO webhook_events (event_id, event, room_name) VALUES (p_event_id, p_event, p_room) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN QUERY SELECT false, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
    RETURN;
  END IF;
  SELECT c.call_id INTO v_call FROM calls c WHERE c.room_name = p_room;
  IF v_call IS NULL THEN
    RETURN QUERY SELECT true, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('call:' || v_call::text, 0));
  RETURN QUERY SELECT true, c.call_id, c.room_id, c.room_name, c.status, c.ended_at FROM calls c WHERE c.call_id = v_call;
  IF p_room_sid <> '' THEN
    UPDATE calls c SET room_id = p_room_sid WHERE c.call_id = v_call AND c.room_id IS NULL;
  END IF;
END $$;

REVOKE EXECUTE ON FUNCTION app.webhook_receive(text, text, text, text) FROM PUBLIC;
